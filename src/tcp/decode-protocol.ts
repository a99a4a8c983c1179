// Messages between the TCP listener (main thread) and its decode workers.
import type { DecodedChunk } from "./chunk-decoder.ts";

/** Main → worker: the shared sequence counter (once, first); bytes read from a connection (the buffer is transferred); its end. */
export type DecodeRequest =
  | { kind: "init"; sequence: SharedArrayBuffer }
  | { kind: "data"; connection: number; bytes: Uint8Array }
  | { kind: "end"; connection: number }
  /** An output buffer the writer is done with, for reuse (transferred). */
  | { kind: "recycle"; buffer: ArrayBuffer };

/** Worker → main: what one `data` request produced, in request order per connection. */
export interface DecodeResponse extends DecodedChunk {
  connection: number;
  /** Bytes of the request, so the main thread can release them from its in-flight count. */
  requestBytes: number;
}
