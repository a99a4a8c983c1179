// Cap'n Proto packed-encoding unpacker (https://capnproto.org/encoding.html#packing) for the TCP hot
// path: it writes into a reused, growable scratch buffer and allocates nothing per call except when the
// buffer has to grow.
//
// Packed format, per 8-byte word: a tag byte whose bit i says "byte i is non-zero", then the non-zero
// bytes. Tag 0x00 is followed by a count of additional all-zero words; tag 0xff (all eight bytes present)
// is followed by a count of additional words copied verbatim.

import { copyBytes } from "../byte-copy.ts";
import { DecodeError } from "./decode-error.ts";

/**
 * Hard cap on one unpacked message. 64 MiB matches Cap'n Proto C++'s default traversal limit (8 Mi
 * words) and is well above the 10 MiB frame limit, whose contents are mostly text (packing saves
 * ~nothing on text).
 */
export const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;
/**
 * A zero-run pair (2 bytes) expands to 2 KiB, so without a ratio cap a 64 KiB frame could make us
 * zero-fill 64 MiB. Real LoggerMsg frames expand far less: only pointers, the level word and NUL
 * padding are zero-heavy, and for small messages the fixed allowance covers them.
 */
export const MAX_EXPANSION_RATIO = 8;
export const EXPANSION_ALLOWANCE_BYTES = 64 * 1024;

/** Largest unpacked size accepted for a packed input of `packedLength` bytes. */
export function unpackLimit(packedLength: number): number {
  return Math.min(MAX_UNPACKED_BYTES, packedLength * MAX_EXPANSION_RATIO + EXPANSION_ALLOWANCE_BYTES);
}

// The message reader reads 32-bit pointer halves through an Int32Array view, which uses the platform's
// byte order. Every platform Bun runs on is little-endian (like Cap'n Proto); fail loudly otherwise.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error("src/decode requires a little-endian platform");
}

/** A reused output buffer; `bytes` and `words` view the same memory and are replaced together on growth. */
export class Scratch {
  bytes: Uint8Array;
  words: Int32Array;

  constructor(initialBytes = 64 * 1024) {
    const size = roundUpToWord(Math.max(initialBytes, 8));
    this.bytes = new Uint8Array(size);
    this.words = new Int32Array(this.bytes.buffer);
  }

  /**
   * Grow to hold at least `needed` bytes (doubling, but not past `limit` unless `needed` is), keeping
   * the first `keep` bytes. Never shrinks.
   */
  grow(needed: number, keep: number, limit = MAX_UNPACKED_BYTES): void {
    if (needed <= this.bytes.length) return;
    const size = roundUpToWord(Math.max(needed, Math.min(this.bytes.length * 2, limit)));
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, keep));
    this.bytes = bytes;
    this.words = new Int32Array(bytes.buffer);
  }
}

function roundUpToWord(n: number): number {
  return (n + 7) & ~7;
}

/** Masks keeping the low 0–4 bytes of a word. */
const LOW_BYTES_MASK = new Int32Array([0, 0xff, 0xffff, 0xffffff, -1]);

/**
 * Verbatim runs at least this long are copied natively. A native copy costs a fixed ~25-40 ns
 * (more in the full decode loop than alone); the word loop ~1.5 ns per 4 bytes.
 */
const NATIVE_RUN_MIN_BYTES = 256;

/** Number of set bits per tag value = number of literal bytes following a mixed tag. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/**
 * Unpack `src[start, end)` into `scratch.bytes` starting at offset 0 and return the unpacked length
 * (always a multiple of 8). Throws DecodeError on a truncated tag stream or when the output would
 * exceed `unpackLimit(end - start)`.
 *
 * Output is written as 32-bit words (the output is word-aligned; the input is not, so input words
 * are read through a DataView), which quarters the store count compared with byte stores. (A
 * separate path for input without 0x00/0xff tags would not help: any Text of 8+ bytes yields an
 * 0xff tag and any null pointer or level-0 word a 0x00 tag, so real LoggerMsg frames always
 * contain both.)
 */
// A DataView of the last input: frames arrive as ranges of one socket read (64 KiB), so it is
// created about once per read, not per frame.
let viewOf: Uint8Array | null = null;
let srcView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

export function unpackInto(src: Uint8Array, start: number, end: number, scratch: Scratch): number {
  if (start < 0 || end > src.length || start > end) {
    throw new RangeError(`unpackInto: range [${start}, ${end}) outside input of ${src.length} bytes`);
  }
  if (src !== viewOf) {
    srcView = new DataView(src.buffer, src.byteOffset, src.byteLength);
    viewOf = src;
  }
  const view = srcView;
  const limit = unpackLimit(end - start);
  let out = scratch.words;
  // Never more than this input's cap, even when an earlier, larger message left the scratch bigger:
  // whatever would pass the cap goes through growFor, which refuses it.
  let capacity = Math.min(out.length << 2, limit);
  let i = start;
  let o = 0; // output byte offset, always a multiple of 8
  while (i < end) {
    const tag = src[i++];
    if (tag === 0x11 && i + 2 <= end && o + 8 <= capacity) {
      // The most common word in a LoggerMsg: a near Text pointer (offset < 64 words, < 32 bytes).
      out[o >> 2] = src[i];
      out[(o >> 2) + 1] = src[i + 1];
      i += 2;
      o += 8;
    } else if (tag === 0xff) {
      // Full word, then a count of verbatim words. Text bodies land here.
      if (i + 9 > end) throw truncated("full word or its run count missing", i - start);
      const runBytes = src[i + 8] << 3;
      if (i + 9 + runBytes > end) throw truncated("verbatim run longer than the input", i - start);
      if (o + 8 + runBytes > capacity) {
        out = growFor(scratch, o + 8 + runBytes, o, limit);
        capacity = Math.min(out.length << 2, limit);
      }
      const w = o >> 2;
      out[w] = view.getInt32(i, true);
      out[w + 1] = view.getInt32(i + 4, true);
      i += 9;
      o += 8;
      if (runBytes >= NATIVE_RUN_MIN_BYTES) {
        copyBytes(src, i, i + runBytes, scratch.bytes, o);
      } else {
        // Runs are whole words: two loads and stores per iteration.
        for (let k = 0; k < runBytes; k += 8) {
          const w = (o + k) >> 2;
          out[w] = view.getInt32(i + k, true);
          out[w + 1] = view.getInt32(i + k + 4, true);
        }
      }
      i += runBytes;
      o += runBytes;
    } else if (tag === 0x00) {
      // Zero word plus a count of more zero words. The scratch is reused, so zeros must be written.
      if (i >= end) throw truncated("zero-run count byte missing", i - start);
      const bytes = (src[i++] + 1) << 3;
      if (o + bytes > capacity) {
        out = growFor(scratch, o + bytes, o, limit);
        capacity = Math.min(out.length << 2, limit);
      }
      const w = o >> 2;
      if (bytes <= 32) {
        for (let k = 0; k < bytes >> 2; k++) out[w + k] = 0;
      } else {
        out.fill(0, w, w + (bytes >> 2));
      }
      o += bytes;
    } else {
      // Mixed word: one literal byte per set tag bit, zero elsewhere.
      if (i + POPCOUNT[tag] > end) throw truncated("mixed word shorter than its tag", i - start);
      if (o + 8 > capacity) {
        out = growFor(scratch, o + 8, o, limit);
        capacity = Math.min(out.length << 2, limit);
      }
      if ((tag & (tag + 1)) === 0 && i + 8 <= src.length) {
        // Tag 2^n - 1: bytes 0..n-1 present, as in a Text's last word (its tail, then NUL padding).
        // Two loads and masks instead of n branches; reading past the n bytes is harmless (masked).
        const n = POPCOUNT[tag];
        const w = o >> 2;
        out[w] = view.getInt32(i, true) & LOW_BYTES_MASK[n > 4 ? 4 : n];
        out[w + 1] = n > 4 ? view.getInt32(i + 4, true) & LOW_BYTES_MASK[n - 4] : 0;
        i += n;
        o += 8;
        continue;
      }
      let lo = 0;
      let hi = 0;
      if (tag & 0x01) lo = src[i++];
      if (tag & 0x02) lo |= src[i++] << 8;
      if (tag & 0x04) lo |= src[i++] << 16;
      if (tag & 0x08) lo |= src[i++] << 24;
      if (tag & 0x10) hi = src[i++];
      if (tag & 0x20) hi |= src[i++] << 8;
      if (tag & 0x40) hi |= src[i++] << 16;
      if (tag & 0x80) hi |= src[i++] << 24;
      out[o >> 2] = lo;
      out[(o >> 2) + 1] = hi;
      o += 8;
    }
  }
  return o;
}

function growFor(scratch: Scratch, needed: number, keep: number, limit: number): Int32Array {
  if (needed > limit) {
    throw new DecodeError("too-large", `unpacked size exceeds ${limit} bytes (cap for this input length)`);
  }
  scratch.grow(needed, keep, limit);
  return scratch.words;
}

function truncated(what: string, at: number): DecodeError {
  return new DecodeError("truncated-packed", `${what} at packed offset ${at}`);
}

