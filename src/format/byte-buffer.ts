// A growable byte buffer with a write position: the staging area that formatted lines are written
// into directly, so a record's bytes are copied once, from the decoded frame to the batch.

import { copyBytes, NATIVE_COPY_MIN_BYTES } from "../byte-copy.ts";

export class ByteBuffer {
  bytes: Uint8Array;
  /**
   * A DataView of `bytes`, replaced together with it: the line formatter stores 2 and 4 bytes at a
   * time at any offset through it. Bytes at and after `pos` are scratch: a writer may store a few
   * bytes past its end (within what it reserved with `ensure`) and the next write overwrites them.
   */
  view: DataView;
  pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.bytes = new Uint8Array(Math.max(initialCapacity, 64));
    this.view = new DataView(this.bytes.buffer);
  }

  /** A buffer over existing bytes (not copied), holding `length` of them. */
  static wrap(bytes: Uint8Array, length: number): ByteBuffer {
    const buffer = new ByteBuffer(0);
    buffer.bytes = bytes;
    buffer.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    buffer.pos = length;
    return buffer;
  }

  /** Makes room for `n` more bytes; growth doubles, so appends are amortised O(1). */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Appends raw bytes (no escaping). */
  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    if (n < NATIVE_COPY_MIN_BYTES) {
      // Short copies: a plain loop beats a native call.
      const dst = this.bytes;
      let o = this.pos;
      for (let i = start; i < end; i++) dst[o++] = src[i];
    } else {
      copyBytes(src, start, end, this.bytes, this.pos);
    }
    this.pos += n;
  }

  /** Drops everything; keeps the capacity unless it grew past `keepCapacity` (a one-off huge batch). */
  reset(keepCapacity = 8 * 1024 * 1024): void {
    this.pos = 0;
    if (this.bytes.length > keepCapacity) {
      this.bytes = new Uint8Array(Math.max(keepCapacity, 64));
      this.view = new DataView(this.bytes.buffer);
    }
  }
}
