// The unit the ordered writer stages and writes: a run of formatted lines in sequence order, with
// where each line ends and which sequence number is settled once it is written.
import { ByteBuffer } from "../format/byte-buffer.ts";

/**
 * Staged lines live in blocks of this size (a line larger than a block gets a block of its own). Blocks
 * are written from and recycled, so memory follows the backlog instead of doubling one big buffer.
 */
export const BLOCK_BYTES = 1024 * 1024;
/** Empty blocks kept for reuse. */
export const SPARE_BLOCKS = 4;

/**
 * Lines in sequence order, waiting for (or in) a write. Either the block the main thread formats into
 * (growable, `sealed` false), or a block of ready-made lines adopted whole from a decode worker.
 */
export class Block {
  readonly buf: ByteBuffer;
  /** End offset of each line in `buf`. */
  ends: number[] | Int32Array;
  /** For each line, the highest sequence number that is settled once it is written; null: `first + i`. */
  settles: number[] | null;
  /** With `settles` null: the sequence number of line 0 (the lines are consecutive). */
  first = 0;
  /** No more lines are appended (an adopted block). */
  readonly sealed: boolean;
  /** Taken whole from `commitLines`: its bytes are handed back once written. */
  recyclable = false;
  /** Lines of this block already in the file. */
  written = 0;

  constructor(buf: ByteBuffer, ends: number[] | Int32Array, settles: number[] | null, sealed: boolean) {
    this.buf = buf;
    this.ends = ends;
    this.settles = settles;
    this.sealed = sealed;
  }

  static filling(capacity: number): Block {
    return new Block(new ByteBuffer(capacity), [], [], false);
  }

  /** Lines `first`, `first + 1`, … formatted elsewhere: `bytes` ending at `ends[i]`. */
  static adopted(first: number, bytes: Uint8Array, ends: Int32Array): Block {
    const block = new Block(ByteBuffer.wrap(bytes, ends[ends.length - 1]), ends, null, true);
    block.first = first;
    return block;
  }

  settlesAt(line: number): number {
    return this.settles === null ? this.first + line : this.settles[line];
  }

  /** Appends to a filling block: the line that now ends at `buf.pos`. */
  push(settles: number): void {
    (this.ends as number[]).push(this.buf.pos);
    (this.settles as number[]).push(settles);
  }

  clear(): void {
    this.buf.pos = 0;
    this.ends = [];
    this.settles = [];
    this.written = 0;
  }
}
