// A growable byte buffer with a write position: the staging area that formatted lines are written
// into directly, so a record's bytes are copied once, from the decoded frame to the batch.

export class ByteBuffer {
  bytes: Uint8Array;
  pos = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.bytes = new Uint8Array(initialCapacity);
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
    if (this.bytes.length > keepCapacity) this.bytes = new Uint8Array(keepCapacity);
  }
}
