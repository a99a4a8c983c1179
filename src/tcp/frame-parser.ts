// Splits a TCP byte stream into frames: 4-byte big-endian length, then that many payload bytes.
// Complete frames are handed on as (chunk, start, end) views of the bytes as received — no copy;
// only the bytes of a frame that straddles reads are copied, into a buffer of exactly its size.
// A length of 0 is a heartbeat and is skipped.
import { MAX_FRAME_BYTES } from "../config.ts";

export interface FrameHandler {
  /** One complete payload, `bytes[start, end)`; valid only during the call. */
  onFrame(bytes: Uint8Array, start: number, end: number): void;
  onHeartbeat(): void;
}

export class FrameError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class FrameParser {
  /** Header bytes received so far when a header straddles reads (0–3 of them). */
  #header = new Uint8Array(4);
  #headerFill = 0;
  /** The frame being assembled across reads, or null. */
  #partial: Uint8Array | null = null;
  #partialFill = 0;
  /** Frames started so far (heartbeats not counted); the current one is #frames, which names a bad frame in errors. */
  frames = 0;

  constructor(
    readonly handler: FrameHandler,
    readonly maxFrameBytes = MAX_FRAME_BYTES,
  ) {}

  /** True while a frame or header is incomplete. */
  get midFrame(): boolean {
    return this.#headerFill > 0 || this.#partial !== null;
  }

  /** Feeds one read. Throws FrameError on an oversize length; frames before it were delivered. */
  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    if (this.#partial !== null) i = this.#continuePartial(chunk);
    else if (this.#headerFill > 0) i = this.#continueHeader(chunk);
    while (i < n) {
      if (n - i < 4) {
        this.#header.set(chunk.subarray(i, n));
        this.#headerFill = n - i;
        return;
      }
      const length = ((chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) | chunk[i + 3]) >>> 0;
      i += 4;
      i = this.#startFrame(chunk, i, length);
    }
  }

  /** Handles a frame whose payload starts at `chunk[i]`; returns where the next header starts. */
  #startFrame(chunk: Uint8Array, i: number, length: number): number {
    if (length === 0) {
      this.handler.onHeartbeat();
      return i;
    }
    this.frames++;
    if (length > this.maxFrameBytes) {
      throw new FrameError("oversize", `frame #${this.frames} declares ${length} bytes, over the ${this.maxFrameBytes}-byte limit`);
    }
    const available = chunk.length - i;
    if (available >= length) {
      this.handler.onFrame(chunk, i, i + length);
      return i + length;
    }
    const partial = new Uint8Array(length);
    partial.set(chunk.subarray(i));
    this.#partial = partial;
    this.#partialFill = available;
    return chunk.length;
  }

  #continueHeader(chunk: Uint8Array): number {
    const take = Math.min(4 - this.#headerFill, chunk.length);
    for (let k = 0; k < take; k++) this.#header[this.#headerFill++] = chunk[k];
    if (this.#headerFill < 4) return take;
    this.#headerFill = 0;
    const h = this.#header;
    const length = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
    return this.#startFrame(chunk, take, length);
  }

  #continuePartial(chunk: Uint8Array): number {
    const partial = this.#partial as Uint8Array;
    const take = Math.min(partial.length - this.#partialFill, chunk.length);
    partial.set(chunk.subarray(0, take), this.#partialFill);
    this.#partialFill += take;
    if (this.#partialFill === partial.length) {
      this.#partial = null;
      this.#partialFill = 0;
      this.handler.onFrame(partial, 0, partial.length);
    }
    return take;
  }
}
