// Messages between the TCP listener (main thread) and its decode workers.
import type { DecodedChunk } from "./chunk-decoder.ts";

/** Main → worker: bytes read from connection `connection` (the buffer is transferred), or its end. */
export type DecodeRequest = { kind: "data"; connection: number; bytes: Uint8Array } | { kind: "end"; connection: number };

/** Worker → main: what one `data` request produced, in request order per connection. */
export interface DecodeResponse extends DecodedChunk {
  connection: number;
  /** Bytes of the request, so the main thread can release them from its in-flight count. */
  requestBytes: number;
}
