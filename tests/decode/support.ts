// Test support for the Cap'n Proto decoders: a seeded PRNG, an independent packer, a hand-written
// message builder that can spread objects over many segments with far / double-far pointers, and
// adapters that run our reader and the capnp-es reference on the same bytes.

import { Message } from "capnp-es";
import { LoggerMsg } from "../../src/capnp/logger.ts";
import { DecodeError } from "../../src/decode/decode-error.ts";
import { decodeLoggerFrame } from "../../src/decode/logger-msg.ts";
import { FIELD_COUNT, LogFields } from "../../src/record/log-fields.ts";

// ---------------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32) so every failure names a reproducible seed.

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyz0123456789 -_.:/",
  "ABCDEFGHIJKLMNOPQRSTUVWXYZ\t\n\r\"'\\{}[]",
  "äöüßéèêñçøå",
  "日本語中文한국어Ωμέγαабвгд",
  "🎉🚀😀👍🏽🔥",
].map((a) => [...a]);

/** Random string: often short ASCII, sometimes unicode, sometimes long, rarely with an inner NUL. */
export function randomText(rng: Rng, maxLength = 200): string {
  const length = rng.chance(0.05) ? rng.int(4000) : rng.int(maxLength);
  let s = "";
  for (let i = 0; i < length; ) {
    const chars = rng.pick(ALPHABETS);
    const run = 1 + rng.int(12);
    for (let k = 0; k < run && i < length; k++, i++) s += rng.pick(chars);
  }
  if (rng.chance(0.02)) s += "\0inner";
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Packing, written from the spec (https://capnproto.org/encoding.html#packing), independent of
// src/decode. With an rng, it makes legal but unusual choices (short or zero-heavy verbatim runs)
// so the unpacker sees every tag pattern.

export function pack(unpacked: Uint8Array, rng?: Rng): Uint8Array {
  if (unpacked.length % 8 !== 0) throw new Error("pack: input is not whole words");
  const words = unpacked.length / 8;
  const tags = new Uint8Array(words);
  for (let w = 0; w < words; w++) {
    for (let b = 0; b < 8; b++) if (unpacked[w * 8 + b] !== 0) tags[w] |= 1 << b;
  }
  const out = new Uint8Array(words * 10 + 2); // worst case: tag + 8 bytes + count per word
  let o = 0;
  for (let w = 0; w < words; ) {
    const tag = tags[w];
    out[o++] = tag;
    if (tag === 0) {
      let run = 0;
      const maxRun = rng?.chance(0.3) ? rng.int(256) : 255;
      while (run < maxRun && w + 1 + run < words && tags[w + 1 + run] === 0) run++;
      out[o++] = run;
      w += 1 + run;
    } else if (tag === 0xff) {
      out.set(unpacked.subarray(w * 8, w * 8 + 8), o);
      o += 8;
      let run = 0;
      const maxRun = rng?.chance(0.3) ? rng.int(256) : 255;
      const zeroHeavyOk = rng?.chance(0.3) ?? false;
      // Like C++: keep copying verbatim while words have at most one zero byte (or, randomly, any words).
      while (run < maxRun && w + 1 + run < words && (zeroHeavyOk || 8 - popcount(tags[w + 1 + run]) < 2)) run++;
      out[o++] = run;
      out.set(unpacked.subarray((w + 1) * 8, (w + 1 + run) * 8), o);
      o += run * 8;
      w += 1 + run;
    } else {
      for (let b = 0; b < 8; b++) if (tag & (1 << b)) out[o++] = unpacked[w * 8 + b];
      w++;
    }
  }
  return out.slice(0, o);
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Hand-written message builder. Objects can be placed in any segment; pointers between segments use a
// far pointer (landing pad next to the object) or a double-far pointer (two-word pad in a third place).

export type Link = "near" | "far" | "double-far";

export class WireBuilder {
  readonly segments: number[][] = [[]];

  /** Append `words` zero words to segment `seg` (creating it if needed); returns the first word index. */
  alloc(seg: number, words: number): number {
    while (this.segments.length <= seg) this.segments.push([]);
    const at = this.segments[seg].length / 8;
    for (let i = 0; i < words * 8; i++) this.segments[seg].push(0);
    return at;
  }

  setU32(seg: number, word: number, half: 0 | 1, value: number): void {
    const bytes = this.segments[seg];
    const at = word * 8 + half * 4;
    for (let b = 0; b < 4; b++) bytes[at + b] = (value >>> (8 * b)) & 0xff;
  }

  setWord(seg: number, word: number, lo: number, hi: number): void {
    this.setU32(seg, word, 0, lo);
    this.setU32(seg, word, 1, hi);
  }

  setBytes(seg: number, word: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.segments[seg][word * 8 + i] = data[i];
  }

  /**
   * Write the pointer at (seg, word) to the object at (objSeg, objWord). `kind` 0 = struct, 1 = list;
   * `hi` is the pointer's upper half (struct sizes or list element size/count).
   */
  link(seg: number, word: number, objSeg: number, objWord: number, kind: number, hi: number, how: Link, padSeg = objSeg): void {
    if (how === "near") {
      if (seg !== objSeg) throw new Error("near pointer across segments");
      this.setWord(seg, word, (((objWord - word - 1) << 2) | kind) >>> 0, hi);
    } else if (how === "far") {
      const pad = this.alloc(objSeg, 1);
      this.setWord(objSeg, pad, (((objWord - pad - 1) << 2) | kind) >>> 0, hi);
      this.setWord(seg, word, ((pad << 3) | 2) >>> 0, objSeg);
    } else {
      const pad = this.alloc(padSeg, 2);
      this.setWord(padSeg, pad, ((objWord << 3) | 2) >>> 0, objSeg);
      this.setWord(padSeg, pad + 1, kind, hi);
      this.setWord(seg, word, ((pad << 3) | 6) >>> 0, padSeg);
    }
  }

  /** The message in stream framing: segment table, then the segments. */
  serialize(): Uint8Array {
    const count = this.segments.length;
    const tableWords = (count >> 1) + 1;
    const total = tableWords * 8 + this.segments.reduce((n, s) => n + s.length, 0);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    view.setUint32(0, count - 1, true);
    for (let s = 0; s < count; s++) view.setUint32(4 + 4 * s, this.segments[s].length / 8, true);
    let at = tableWords * 8;
    for (const seg of this.segments) {
      out.set(seg, at);
      at += seg.length;
    }
    return out;
  }
}

export interface LoggerSpec {
  level: number;
  /** Per pointer slot: bytes of the text, or null for a null pointer. Length = pointerCount. */
  texts: (Uint8Array | null)[];
  dataWords: number;
}

const encoder = new TextEncoder();
export const utf8 = (s: string) => encoder.encode(s);

/** Random LoggerMsg shape: usually the current schema, sometimes older/newer struct sizes. */
export function randomSpec(rng: Rng): LoggerSpec {
  const dataWords = rng.chance(0.8) ? 1 : rng.int(4);
  const pointerCount = rng.chance(0.7) ? FIELD_COUNT : rng.int(21);
  const texts: (Uint8Array | null)[] = [];
  for (let i = 0; i < pointerCount; i++) {
    const r = rng.int(10);
    texts.push(r === 0 ? null : r === 1 ? new Uint8Array(0) : utf8(randomText(rng)));
  }
  return { level: rng.chance(0.7) ? rng.int(12) : rng.int(65536), texts, dataWords };
}

/** The fields a correct reader must report for `spec`. */
export function expectedOf(spec: LoggerSpec): { level: number; fields: Uint8Array[] } {
  const fields: Uint8Array[] = [];
  for (let i = 0; i < FIELD_COUNT; i++) fields.push(spec.texts[i] ?? new Uint8Array(0));
  return { level: spec.dataWords > 0 ? spec.level : 0, fields };
}

/**
 * Build `spec` as an unpacked message. With `spread`, the struct and each text go to random segments
 * (up to `maxSegments`), joined by far or double-far pointers.
 */
export function buildLogger(spec: LoggerSpec, rng: Rng, spread: boolean, maxSegments = 6): Uint8Array {
  const b = new WireBuilder();
  const place = () => (spread ? rng.int(maxSegments) : 0);
  const linkKind = (from: number, to: number): Link => (from !== to ? rng.pick(["far", "double-far"] as const) : spread && rng.chance(0.3) ? rng.pick(["far", "double-far"] as const) : "near");
  b.alloc(0, 1); // root pointer
  const pointerCount = spec.texts.length;
  const structSeg = place();
  const struct = b.alloc(structSeg, spec.dataWords + pointerCount);
  b.link(0, 0, structSeg, struct, 0, (spec.dataWords | (pointerCount << 16)) >>> 0, linkKind(0, structSeg), place());
  if (spec.dataWords > 0) b.setU32(structSeg, struct, 0, spec.level & 0xffff);
  for (let i = 0; i < pointerCount; i++) {
    const text = spec.texts[i];
    if (text === null) continue;
    const seg = place();
    const at = b.alloc(seg, Math.ceil((text.length + 1) / 8));
    b.setBytes(seg, at, text);
    const ptr = struct + spec.dataWords + i;
    b.link(structSeg, ptr, seg, at, 1, (((text.length + 1) << 3) | 2) >>> 0, linkKind(structSeg, seg), place());
  }
  return b.serialize();
}

// ---------------------------------------------------------------------------------------------------
// Running both readers.

export interface Decoded {
  level: number;
  fields: string[];
}

const decoder = new TextDecoder();
const shared = new LogFields();

/** Our reader on a packed payload; field bytes decoded like capnp-es does (non-fatal UTF-8). */
export function decodeOurs(packed: Uint8Array): Decoded {
  decodeLoggerFrame(packed, 0, packed.length, shared);
  return toDecoded(shared);
}

export function toDecoded(f: LogFields): Decoded {
  const fields: string[] = [];
  for (let i = 0; i < FIELD_COUNT; i++) fields.push(decoder.decode(f.bytes.subarray(f.start[i], f.start[i] + f.length[i])));
  return { level: f.level, fields };
}

export function fieldBytes(f: LogFields, i: number): Uint8Array {
  return f.bytes.slice(f.start[i], f.start[i] + f.length[i]);
}

/** capnp-es on the same bytes (packed unless told otherwise). */
export function decodeRef(bytes: Uint8Array, packed = true): Decoded {
  const root = new Message(bytes, packed).getRoot(LoggerMsg);
  return {
    level: root.level,
    fields: [
      root.timestamp, root.hostname, root.loggerName, root.module, root.filename, root.functionName,
      root.lineNumber, root.message, root.pathName, root.processId, root.processName, root.threadId,
      root.threadName, root.serviceName, root.stackTrace,
    ],
  };
}

export type Outcome = { ok: true; value: Decoded } | { ok: false; error: unknown };

export function attempt(fn: () => Decoded): Outcome {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function isDecodeError(e: unknown): e is DecodeError {
  return e instanceof DecodeError;
}

/** Build a random LoggerMsg with capnp-es; unset fields stay null pointers. */
export function buildWithCapnpEs(rng: Rng, message = new Message()): { packed: Uint8Array; expected: Decoded } {
  const root = message.initRoot(LoggerMsg);
  const setters: ((v: string) => void)[] = [
    (v) => (root.timestamp = v), (v) => (root.hostname = v), (v) => (root.loggerName = v), (v) => (root.module = v),
    (v) => (root.filename = v), (v) => (root.functionName = v), (v) => (root.lineNumber = v), (v) => (root.message = v),
    (v) => (root.pathName = v), (v) => (root.processId = v), (v) => (root.processName = v), (v) => (root.threadId = v),
    (v) => (root.threadName = v), (v) => (root.serviceName = v), (v) => (root.stackTrace = v),
  ];
  const fields: string[] = [];
  for (let i = 0; i < FIELD_COUNT; i++) {
    const r = rng.int(8);
    if (r === 0) {
      fields.push(""); // left unset: null pointer (Go style)
      continue;
    }
    const v = r === 1 ? "" : randomText(rng);
    setters[i](v);
    fields.push(decoder.decode(encoder.encode(v))); // lone surrogates become U+FFFD on the wire
  }
  const level = rng.chance(0.7) ? rng.int(12) : rng.int(65536);
  root.level = level as never;
  return { packed: new Uint8Array(message.toPackedArrayBuffer()), expected: { level, fields } };
}
