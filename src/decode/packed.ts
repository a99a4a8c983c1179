// Cap'n Proto packed-encoding unpacker (https://capnproto.org/encoding.html#packing) for the TCP hot
// path: it writes into a reused, growable scratch buffer and allocates nothing per call except when the
// buffer has to grow.
//
// Packed format, per 8-byte word: a tag byte whose bit i says "byte i is non-zero", then the non-zero
// bytes. Tag 0x00 is followed by a count of additional all-zero words; tag 0xff (all eight bytes present)
// is followed by a count of additional words copied verbatim.

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

  /** Grow to hold at least `needed` bytes, keeping the first `keep` bytes. Never shrinks. */
  grow(needed: number, keep: number): void {
    if (needed <= this.bytes.length) return;
    const size = roundUpToWord(Math.max(needed, Math.min(this.bytes.length * 2, MAX_UNPACKED_BYTES)));
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, keep));
    this.bytes = bytes;
    this.words = new Int32Array(bytes.buffer);
  }
}

function roundUpToWord(n: number): number {
  return (n + 7) & ~7;
}

/** Number of set bits per tag value = number of literal bytes following a mixed tag. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/**
 * Unpack `src[start, end)` into `scratch.bytes` starting at offset 0 and return the unpacked length
 * (always a multiple of 8). Throws DecodeError on a truncated tag stream or when the output would
 * exceed `unpackLimit(end - start)`.
 */
export function unpackInto(src: Uint8Array, start: number, end: number, scratch: Scratch): number {
  if (start < 0 || end > src.length || start > end) {
    throw new RangeError(`unpackInto: range [${start}, ${end}) outside input of ${src.length} bytes`);
  }
  const limit = unpackLimit(end - start);
  let dst = scratch.bytes;
  let i = start;
  let o = 0;
  while (i < end) {
    const tag = src[i++];
    if (tag === 0x00) {
      // Zero word plus a count of more zero words. The scratch is reused, so zeros must be written.
      if (i >= end) throw truncated("zero-run count byte missing", i - start);
      const n = (src[i++] + 1) << 3;
      if (o + n > dst.length) dst = growFor(scratch, o + n, o, limit);
      if (n === 8) {
        dst[o] = 0; dst[o + 1] = 0; dst[o + 2] = 0; dst[o + 3] = 0;
        dst[o + 4] = 0; dst[o + 5] = 0; dst[o + 6] = 0; dst[o + 7] = 0;
      } else {
        dst.fill(0, o, o + n);
      }
      o += n;
    } else if (tag === 0xff) {
      // Full word, then a count of verbatim words. Text bodies land here.
      if (i + 9 > end) throw truncated("full word or its run count missing", i - start);
      const n = (src[i + 8] + 1) << 3;
      if (i + n + 1 > end) throw truncated("verbatim run longer than the input", i - start);
      if (o + n > dst.length) dst = growFor(scratch, o + n, o, limit);
      copyWord(src, i, dst, o);
      copyWords(src, i + 9, dst, o + 8, n - 8);
      i += n + 1;
      o += n;
    } else {
      // Mixed word: one literal byte per set tag bit, zero elsewhere.
      if (i + POPCOUNT[tag] > end) throw truncated("mixed word shorter than its tag", i - start);
      if (o + 8 > dst.length) dst = growFor(scratch, o + 8, o, limit);
      dst[o] = tag & 0x01 ? src[i++] : 0;
      dst[o + 1] = tag & 0x02 ? src[i++] : 0;
      dst[o + 2] = tag & 0x04 ? src[i++] : 0;
      dst[o + 3] = tag & 0x08 ? src[i++] : 0;
      dst[o + 4] = tag & 0x10 ? src[i++] : 0;
      dst[o + 5] = tag & 0x20 ? src[i++] : 0;
      dst[o + 6] = tag & 0x40 ? src[i++] : 0;
      dst[o + 7] = tag & 0x80 ? src[i++] : 0;
      o += 8;
    }
  }
  return o;
}

function growFor(scratch: Scratch, needed: number, keep: number, limit: number): Uint8Array {
  if (needed > limit) {
    throw new DecodeError("too-large", `unpacked size exceeds ${limit} bytes (cap for this input length)`);
  }
  scratch.grow(needed, keep);
  return scratch.bytes;
}

function truncated(what: string, at: number): DecodeError {
  return new DecodeError("truncated-packed", `${what} at packed offset ${at}`);
}

function copyWord(src: Uint8Array, i: number, dst: Uint8Array, o: number): void {
  dst[o] = src[i]; dst[o + 1] = src[i + 1]; dst[o + 2] = src[i + 2]; dst[o + 3] = src[i + 3];
  dst[o + 4] = src[i + 4]; dst[o + 5] = src[i + 5]; dst[o + 6] = src[i + 6]; dst[o + 7] = src[i + 7];
}

/** Copy `n` bytes (a multiple of 8). Long runs use the native copy; its subarray view is amortised. */
function copyWords(src: Uint8Array, i: number, dst: Uint8Array, o: number, n: number): void {
  if (n >= LONG_RUN_BYTES) {
    dst.set(src.subarray(i, i + n), o);
    return;
  }
  for (let k = 0; k < n; k += 8) copyWord(src, i + k, dst, o + k);
}

/** Runs at least this long are copied with TypedArray.set (one small view allocation, native memcpy). */
const LONG_RUN_BYTES = 256;
