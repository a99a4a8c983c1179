// Turns one TCP connection's bytes into complete, numbered log lines. Runs in a decode worker: it owns
// the connection's frame parser, so frames split across reads are joined here, and it reports the
// handshake identity and the first bad frame back to the listener. The lines of one read are
// formatted with an empty sequence column; once their count is known, one atomic add on the shared
// counter gives them consecutive numbers, which are filled in. The writer then takes the whole read
// as one block, in number order.
import { DecodeError } from "../decode/decode-error.ts";
import { decodeHelloFrame, isUnpackedHello } from "../decode/hello-msg.ts";
import { decodeLoggerFrame } from "../decode/logger-msg.ts";
import { ByteBuffer } from "../format/byte-buffer.ts";
import { formatLineBody, patchSequenceColumn, SEQUENCE_COLUMN_BYTES, writeSequenceColumn, writeSequencePlaceholder } from "../format/line-format.ts";
import type { Sequencer } from "../pipeline/sequencer.ts";
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
  /** Complete lines back to back, each ending in "\n". */
  lines: Uint8Array;
  /** End offset of each line in `lines`. */
  ends: Int32Array;
  /** Sequence number of the first line; the others follow one by one. */
  first: number;
  /** A complete frame (a heartbeat counts) has been seen on this connection. */
  sawFirstFrame: boolean;
  /** "fromName@fromHost", set in the result of the read that carried the handshake. */
  identity: string | null;
  /** The first bad frame; nothing after it is decoded, and the connection must be closed. */
  rejection: FrameRejection | null;
}

/**
 * Output buffers of a decode thread. Each read's lines go out in a buffer of their own (transferred to
 * the main thread); buffers the writer has finished with come back here. Fresh memory is expensive
 * (allocation, zeroing, page faults: about half the decode cost when every read got a new buffer).
 */
export class OutputBuffers {
  static readonly KEEP = 8;
  #free: ArrayBuffer[] = [];

  take(minBytes: number): ByteBuffer {
    const size = Math.max(64 * 1024, minBytes);
    for (let i = this.#free.length - 1; i >= 0; i--) {
      const buffer = this.#free[i];
      if (buffer.byteLength >= size) {
        this.#free.splice(i, 1);
        return ByteBuffer.wrap(new Uint8Array(buffer), 0);
      }
    }
    return new ByteBuffer(size);
  }

  give(buffer: ArrayBuffer): void {
    if (this.#free.length < OutputBuffers.KEEP) this.#free.push(buffer);
  }
}

/** Shared by every connection of this thread: frames are decoded one at a time. */
const decoded = new LogFields();

function describeError(error: unknown): { reason: string; detail: string } {
  if (error instanceof DecodeError) return { reason: error.reason, detail: error.message };
  if (error instanceof Error && "reason" in error) return { reason: String(error.reason), detail: error.message };
  return { reason: "internal", detail: error instanceof Error ? error.message : String(error) };
}

export class ChunkDecoder implements FrameHandler {
  readonly parser = new FrameParser(this);

  constructor(
    readonly sequencer: Pick<Sequencer, "takeRange">,
    readonly buffers: OutputBuffers = new OutputBuffers(),
  ) {}

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
    this.#out = this.buffers.take(chunk.length + (chunk.length >> 1));
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
    const count = this.#ends.length;
    const first = count > 0 ? this.sequencer.takeRange(count) : 0;
    const lines = count > 0 ? this.#number(first) : this.#out;
    return {
      lines: lines.bytes.subarray(0, lines.pos),
      ends: Int32Array.from(this.#ends),
      first,
      sawFirstFrame: this.#sawFirstFrame,
      identity: this.#identity !== identityBefore ? this.#identity : null,
      rejection,
    };
  }

  /** Fills in the sequence columns; numbers wider than the column (past 10^10) need the lines rebuilt. */
  #number(first: number): ByteBuffer {
    const out = this.#out;
    const ends = this.#ends;
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      if (!patchSequenceColumn(out.bytes, start, first + i)) return this.#renumber(first);
      start = ends[i];
    }
    return out;
  }

  #renumber(first: number): ByteBuffer {
    const out = new ByteBuffer(this.#out.pos + this.#ends.length * 16);
    let start = 0;
    for (let i = 0; i < this.#ends.length; i++) {
      writeSequenceColumn(out, first + i);
      out.append(this.#out.bytes, start + SEQUENCE_COLUMN_BYTES, this.#ends[i]);
      start = this.#ends[i];
      this.#ends[i] = out.pos;
    }
    return out;
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
    writeSequencePlaceholder(this.#out);
    formatLineBody(this.#out, decoded);
    this.#ends.push(this.#out.pos);
  }
}
