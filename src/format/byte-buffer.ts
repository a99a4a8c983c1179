// A growable byte buffer with a write position: the staging area that formatted lines are written
// into directly, so a record's bytes are copied once, from the decoded frame to the batch.

export class ByteBuffer {
  bytes: Uint8Array;
  /**
   * The same memory as `bytes`, as little-endian 32-bit words (`words[i]` = bytes 4i..4i+3), replaced
   * together with `bytes`. The line formatter stores whole words through it. The capacity is always a
   * multiple of 4, and bytes at and after `pos` are scratch: writers may fill them ahead of `pos`.
   */
  words: Int32Array;
  pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.bytes = new Uint8Array(roundUpTo4(Math.max(initialCapacity, 4)));
    this.words = new Int32Array(this.bytes.buffer);
  }

  /** Makes room for `n` more bytes; growth doubles, so appends are amortised O(1). */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.bytes.length) return;
    let size = Math.max(this.bytes.length * 2, 64);
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.words = new Int32Array(grown.buffer);
  }

  /** Appends raw bytes (no escaping). */
  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    if (n < 32) {
      // Short copies: a plain loop beats creating a subarray view.
      const dst = this.bytes;
      let o = this.pos;
      for (let i = start; i < end; i++) dst[o++] = src[i];
    } else {
      this.bytes.set(src.subarray(start, end), this.pos);
    }
    this.pos += n;
  }

  /** Drops everything; keeps the capacity unless it grew past `keepCapacity` (a one-off huge batch). */
  reset(keepCapacity = 8 * 1024 * 1024): void {
    this.pos = 0;
    if (this.bytes.length > keepCapacity) {
      this.bytes = new Uint8Array(roundUpTo4(keepCapacity));
      this.words = new Int32Array(this.bytes.buffer);
    }
  }
}

function roundUpTo4(n: number): number {
  return (n + 3) & ~3;
}
