// Shared Cap'n Proto wire reading over one unpacked message held in a Scratch buffer at offset 0
// (https://capnproto.org/encoding.html). Used by the LoggerMsg hot path and the HelloMsg handshake.
//
// To allocate nothing per message, results are returned in reused fields of the reader ("registers")
// instead of objects. readStructTexts handles the common case (near byte-list pointers) inline and
// falls back to the general readText for everything else, so there is one set of rules. All offsets
// are absolute byte offsets into `bytes`; bounds are checked per segment, as Cap'n Proto requires (an
// object may not straddle or leave its segment).
//
// Stricter than the capnp-es reference reader (mostly matching Cap'n Proto C++):
// - the segment table must describe exactly the bytes present, < 512 segments (C++ limit). Trailing
//   bytes are our own rule: a frame holds one message, so extra bytes mean a framing bug upstream;
// - far pointers are followed one hop (or one double-far landing pad); a landing pad that is itself a
//   far pointer is rejected (as in C++), so cyclic far pointers cannot loop;
// - the first word of a double-far landing pad must be a plain far pointer (as in C++);
// - a struct must lie wholly inside its segment (capnp-es only checks the bytes it happens to read);
// - Text must be a byte list ending in NUL (as in C++); capnp-es does not check the NUL;
// - the Text fields of one message may not add up to more bytes than the message, so aliased pointers
//   cannot amplify a 10 MiB frame into 150 MiB of output (in the spirit of C++'s traversal limit).

import { DecodeError } from "./decode-error.ts";
import type { Scratch } from "./packed.ts";

/** Like Cap'n Proto C++, reject messages with this many segments or more; a log record needs a handful. */
export const MAX_SEGMENTS = 512;

const KIND_STRUCT = 0;
const KIND_LIST = 1;
const KIND_FAR = 2;
/** `resolve` result for a null pointer. */
const NULL_POINTER = -1;
const ELEMENT_SIZE_BYTE = 2;

export class MessageReader {
  bytes: Uint8Array = new Uint8Array(0);
  words: Int32Array = new Int32Array(0);
  segmentCount = 0;
  /** Byte range of each segment inside `bytes`. */
  readonly segStart = new Int32Array(MAX_SEGMENTS);
  readonly segEnd = new Int32Array(MAX_SEGMENTS);
  /** Message size in bytes (segment table included); bounds the total Text bytes read. */
  messageBytes = 0;
  private textBudget = 0;

  // Result of resolve(): the pointer describing the object (after far hops) and its content.
  private tLo = 0;
  private tHi = 0;
  private tSeg = 0;
  private tContent = 0;

  // Result of readStruct() / readRootStruct().
  structSeg = 0;
  structData = 0;
  structDataWords = 0;
  structPointers = 0;
  structPointerCount = 0;

  // Result of readText().
  textStart = 0;
  textLength = 0;

  /** Parse the segment table of the message in `scratch[0, byteLength)`. */
  load(scratch: Scratch, byteLength: number): void {
    this.bytes = scratch.bytes;
    this.words = scratch.words;
    this.parseSegmentTable(byteLength);
    this.textBudget = byteLength;
  }

  private parseSegmentTable(byteLength: number): void {
    if ((byteLength & 7) !== 0) {
      throw new DecodeError("not-word-aligned", `message length ${byteLength} is not a multiple of 8`);
    }
    if (byteLength < 8) throw new DecodeError("segment-table", "message shorter than one word");
    const words = this.words;
    const count = (words[0] >>> 0) + 1;
    if (count >= MAX_SEGMENTS) {
      throw new DecodeError("segment-table", `${count} segments (limit ${MAX_SEGMENTS - 1})`);
    }
    // Table: count word + one size per segment, padded to a whole word.
    const tableBytes = ((count >> 1) + 1) * 8;
    if (tableBytes > byteLength) {
      throw new DecodeError("segment-table", `table for ${count} segments exceeds the ${byteLength}-byte message`);
    }
    let at = tableBytes;
    for (let s = 0; s < count; s++) {
      const size = (words[1 + s] >>> 0) * 8;
      if (size > byteLength - at) {
        throw new DecodeError("segment-table", `segment ${s} (${size} bytes) runs past the end of the message`);
      }
      this.segStart[s] = at;
      at += size;
      this.segEnd[s] = at;
    }
    if (at !== byteLength) {
      throw new DecodeError("segment-table", `${byteLength - at} bytes after the last segment`);
    }
    if (this.segEnd[0] - this.segStart[0] < 8) {
      throw new DecodeError("segment-table", "first segment has no room for the root pointer");
    }
    this.segmentCount = count;
    this.messageBytes = byteLength;
  }

  /** Read the root pointer (first word of segment 0) into the struct registers; null = empty struct. */
  readRootStruct(): void {
    if (!this.readStruct(0, this.segStart[0])) {
      throw new DecodeError("wrong-root-type", `root pointer has kind ${this.tLo & 3}, not struct`);
    }
  }

  /**
   * Read a struct pointer at byte `ptr` of segment `seg` into the struct registers. A null pointer gives
   * an empty struct (every field at its default). Returns false if the pointer is not a struct pointer.
   */
  readStruct(seg: number, ptr: number): boolean {
    const kind = this.resolve(seg, ptr);
    if (kind === NULL_POINTER) {
      this.structSeg = seg;
      this.structData = this.structPointers = ptr;
      this.structDataWords = this.structPointerCount = 0;
      return true;
    }
    if (kind !== KIND_STRUCT) return false;
    const dataWords = this.tHi & 0xffff;
    const pointerCount = this.tHi >>> 16;
    const content = this.tContent;
    this.checkBounds(this.tSeg, content, (dataWords + pointerCount) * 8, "struct");
    this.structSeg = this.tSeg;
    this.structData = content;
    this.structDataWords = dataWords;
    this.structPointers = content + dataWords * 8;
    this.structPointerCount = pointerCount;
    return true;
  }

  /**
   * Read pointer `index` of the current struct as Text into textStart/textLength (NUL excluded).
   * Pointers beyond the struct's pointer section (older schema) and null pointers read as "".
   */
  readStructText(index: number): void {
    if (index >= this.structPointerCount) {
      this.textStart = this.textLength = 0;
      return;
    }
    this.readText(this.structSeg, this.structPointers + index * 8);
  }

  /**
   * Read Text pointers 0..count-1 of the current struct into `start`/`length` (NUL excluded); pointers
   * the struct does not have read as "". Hot path: near byte-list pointers are handled inline; anything
   * else (null, far, or invalid) goes through readText, which also produces the right error.
   */
  readStructTexts(start: Int32Array, length: Int32Array, count: number): void {
    const words = this.words;
    const bytes = this.bytes;
    const seg = this.structSeg;
    const segLo = this.segStart[seg];
    const segHi = this.segEnd[seg];
    const n = Math.min(count, this.structPointerCount);
    let budget = this.textBudget;
    let ptr = this.structPointers;
    for (let i = 0; i < n; i++, ptr += 8) {
      const lo = words[ptr >> 2];
      const hi = words[(ptr >> 2) + 1];
      if ((lo & 3) + ((hi & 7) << 2) === KIND_LIST + (ELEMENT_SIZE_BYTE << 2)) {
        // A byte-list pointer (never null: a null pointer has kind 0).
        const content = ptr + 8 + (lo >> 2) * 8;
        const size = hi >>> 3;
        // (size - 1) >>> 0 < budget  <=>  1 <= size <= budget
        if (content >= segLo && content + size <= segHi && (size - 1) >>> 0 < budget && bytes[content + size - 1] === 0) {
          budget -= size;
          start[i] = content;
          length[i] = size - 1;
          continue;
        }
      } else if ((lo | hi) === 0) {
        start[i] = length[i] = 0;
        continue;
      }
      this.textBudget = budget;
      this.readText(seg, ptr);
      budget = this.textBudget;
      start[i] = this.textStart;
      length[i] = this.textLength;
    }
    this.textBudget = budget;
    for (let i = n; i < count; i++) start[i] = length[i] = 0;
  }

  /** Read a Text pointer at byte `ptr` of segment `seg` into textStart/textLength (NUL excluded). */
  readText(seg: number, ptr: number): void {
    const kind = this.resolve(seg, ptr);
    if (kind === NULL_POINTER) {
      this.textStart = this.textLength = 0;
      return;
    }
    const hi = this.tHi;
    if (kind !== KIND_LIST || (hi & 7) !== ELEMENT_SIZE_BYTE) {
      throw new DecodeError("not-text", `expected a byte list for Text, got pointer kind ${kind}, element size ${hi & 7}`);
    }
    const count = hi >>> 3;
    const content = this.tContent;
    this.checkBounds(this.tSeg, content, count, "text");
    if (count === 0 || this.bytes[content + count - 1] !== 0) {
      throw new DecodeError("text-not-terminated", "Text is not NUL-terminated");
    }
    this.textBudget -= count;
    if (this.textBudget < 0) {
      throw new DecodeError("traversal-limit", `Text fields add up to more than the ${this.messageBytes}-byte message`);
    }
    this.textStart = content;
    this.textLength = count - 1;
  }

  /**
   * Follow the pointer at byte `ptr` of segment `seg` through at most one far hop (or one double-far
   * landing pad). Sets tLo/tHi (the struct/list pointer describing the object), tSeg and tContent
   * (absolute byte offset of the object). Returns the object's pointer kind, or NULL_POINTER.
   */
  private resolve(seg: number, ptr: number): number {
    const words = this.words;
    let w = ptr >> 2;
    let lo = words[w];
    let hi = words[w + 1];
    if (lo === 0 && hi === 0) return NULL_POINTER;
    let kind = lo & 3;
    if (kind !== KIND_FAR) {
      this.tSeg = seg;
      this.tContent = ptr + 8 + (lo >> 2) * 8;
    } else {
      const padSeg = this.farSegment(hi);
      const pad = this.segStart[padSeg] + (lo >>> 3) * 8;
      const doubleFar = (lo & 4) !== 0;
      this.checkBounds(padSeg, pad, doubleFar ? 16 : 8, "far-pointer landing pad");
      w = pad >> 2;
      if (!doubleFar) {
        // The landing pad is an ordinary pointer whose offset is relative to the pad.
        lo = words[w];
        hi = words[w + 1];
        this.tSeg = padSeg;
        this.tContent = pad + 8 + (lo >> 2) * 8;
      } else {
        // Pad word 0: far pointer to the object's start; pad word 1: tag giving kind and size.
        const padLo = words[w];
        if ((padLo & 7) !== KIND_FAR) {
          throw new DecodeError("far-pointer", "double-far landing pad does not start with a single far pointer");
        }
        const contentSeg = this.farSegment(words[w + 1]);
        this.tSeg = contentSeg;
        this.tContent = this.segStart[contentSeg] + (padLo >>> 3) * 8;
        lo = words[w + 2];
        hi = words[w + 3];
      }
      kind = lo & 3;
      if (kind === KIND_FAR) {
        throw new DecodeError("far-pointer", "far pointer lands on another far pointer");
      }
    }
    this.tLo = lo;
    this.tHi = hi;
    return kind;
  }

  private farSegment(id: number): number {
    const seg = id >>> 0;
    if (seg >= this.segmentCount) {
      throw new DecodeError("far-pointer", `far pointer to segment ${seg} of ${this.segmentCount}`);
    }
    return seg;
  }

  private checkBounds(seg: number, start: number, byteLength: number, what: string): void {
    if (start < this.segStart[seg] || start + byteLength > this.segEnd[seg]) {
      throw new DecodeError("pointer-out-of-bounds", `${what} of ${byteLength} bytes at ${start} is outside segment ${seg}`);
    }
  }
}
