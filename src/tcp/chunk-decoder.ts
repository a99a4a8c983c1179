// Turns one TCP connection's bytes into formatted line bodies (everything after the sequence column).
// Runs in a decode worker: it owns the connection's frame parser, so frames split across reads are
// joined here, and it reports the handshake identity and the first bad frame back to the listener.
// Sequence numbers are not known here; the main thread puts them in front when it accepts the lines.
import { DecodeError } from "../decode/decode-error.ts";
import { decodeHelloFrame, isUnpackedHello } from "../decode/hello-msg.ts";
import { decodeLoggerFrame } from "../decode/logger-msg.ts";
import { ByteBuffer } from "../format/byte-buffer.ts";
import { formatLineBody } from "../format/line-format.ts";
import { LogFields } from "../record/log-fields.ts";
import { type FrameHandler, FrameParser } from "./frame-parser.ts";

/** Why a connection's frame was refused; `frame` is its 1-based number on the connection (heartbeats not counted). */
export interface FrameRejection {
  reason: string;
  detail: string;
  frame: number;
}

/** What one read of one connection produced. */
export interface DecodedChunk {
  /** Line bodies back to back, each ending in "\n". */
  bodies: Uint8Array;
  /** End offset of each body in `bodies`. */
  ends: Int32Array;
  /** A complete frame (a heartbeat counts) has been seen on this connection. */
  sawFirstFrame: boolean;
  /** "fromName@fromHost", set in the result of the read that carried the handshake. */
  identity: string | null;
  /** The first bad frame; nothing after it is decoded, and the connection must be closed. */
  rejection: FrameRejection | null;
}

/** Shared by every connection of this thread: frames are decoded one at a time. */
const decoded = new LogFields();

export function describeError(error: unknown): { reason: string; detail: string } {
  if (error instanceof DecodeError) return { reason: error.reason, detail: error.message };
  if (error instanceof Error && "reason" in error) return { reason: String(error.reason), detail: error.message };
  return { reason: "internal", detail: error instanceof Error ? error.message : String(error) };
}

export class ChunkDecoder implements FrameHandler {
  readonly parser = new FrameParser(this);
  #sawFirstFrame = false;
  #identity: string | null = null;
  #rejected = false;
  #out = new ByteBuffer(0);
  #ends: number[] = [];

  /** True while a frame is incomplete (its bytes are lost if the connection ends now). */
  get midFrame(): boolean {
    return this.parser.midFrame;
  }

  decode(chunk: Uint8Array): DecodedChunk {
    // Formatted lines are a little longer than their packed frames; one buffer per read, handed over whole.
    this.#out = new ByteBuffer(Math.max(1024, chunk.length * 2));
    this.#ends = [];
    const identityBefore = this.#identity;
    let rejection: FrameRejection | null = null;
    if (!this.#rejected) {
      try {
        this.parser.push(chunk);
      } catch (error) {
        this.#rejected = true;
        rejection = { ...describeError(error), frame: this.parser.frames };
      }
    }
    return {
      bodies: this.#out.bytes.subarray(0, this.#out.pos),
      ends: Int32Array.from(this.#ends),
      sawFirstFrame: this.#sawFirstFrame,
      identity: this.#identity !== identityBefore ? this.#identity : null,
      rejection,
    };
  }

  onHeartbeat(): void {
    this.#sawFirstFrame = true;
  }

  onFrame(bytes: Uint8Array, start: number, end: number): void {
    this.#sawFirstFrame = true;
    if (this.parser.frames === 1 && isUnpackedHello(bytes, start, end)) {
      const hello = decodeHelloFrame(bytes, start, end);
      this.#identity = `${hello.fromName || "?"}@${hello.fromHost || "?"}`;
      return;
    }
    decodeLoggerFrame(bytes, start, end, decoded);
    formatLineBody(this.#out, decoded);
    this.#ends.push(this.#out.pos);
  }
}
