// Hand-built wire cases for the LoggerMsg reader: pointer kinds, far pointers, schema evolution,
// segment tables, and every rejection reason. Each rejection is also checked against capnp-es where
// that makes sense, so the report of differences stays honest.

import { describe, expect, test } from "bun:test";
import { DecodeError } from "../../src/decode/decode-error.ts";
import { decodeLoggerFrame } from "../../src/decode/logger-msg.ts";
import { FIELD_COUNT, LogFields } from "../../src/record/log-fields.ts";
import {
  attempt, buildLogger, decodeRef, expectedOf, fieldBytes, type LoggerSpec, pack, randomSpec, Rng, utf8,
  WireBuilder,
} from "./support.ts";

function decodeUnpacked(unpacked: Uint8Array, out = new LogFields()): LogFields {
  const packed = pack(unpacked);
  decodeLoggerFrame(packed, 0, packed.length, out);
  return out;
}

function rejection(unpacked: Uint8Array): string {
  try {
    decodeUnpacked(unpacked);
  } catch (e) {
    if (e instanceof DecodeError) return e.reason;
    throw e;
  }
  return "accepted";
}

/** Root struct (1 data word, `ptrs` pointers) right after the root pointer in segment 0. */
function rootStruct(b: WireBuilder, ptrs = FIELD_COUNT, dataWords = 1): number {
  b.alloc(0, 1);
  const s = b.alloc(0, dataWords + ptrs);
  b.link(0, 0, 0, s, 0, (dataWords | (ptrs << 16)) >>> 0, "near");
  return s;
}

/** A NUL-terminated text object in `seg`; returns its word index. */
function textObject(b: WireBuilder, seg: number, text: string): { at: number; hi: number } {
  const bytes = utf8(text);
  const at = b.alloc(seg, Math.ceil((bytes.length + 1) / 8));
  b.setBytes(seg, at, bytes);
  return { at, hi: (((bytes.length + 1) << 3) | 2) >>> 0 };
}

function spec(texts: (string | null)[], level = 3, dataWords = 1): LoggerSpec {
  return { level, dataWords, texts: texts.map((t) => (t === null ? null : utf8(t))) };
}

describe("LoggerMsg reader: valid layouts", () => {
  test("all pointer layouts (near, far, double-far, many segments) give the same fields", () => {
    const rng = new Rng(2024);
    const out = new LogFields();
    for (let c = 0; c < 300; c++) {
      const s = randomSpec(rng);
      const exp = expectedOf(s);
      decodeUnpacked(buildLogger(s, rng, c % 3 !== 0, 1 + rng.int(8)), out);
      expect(out.level).toBe(exp.level);
      for (let i = 0; i < FIELD_COUNT; i++) expect(fieldBytes(out, i)).toEqual(exp.fields[i]);
    }
  });

  test("a null root pointer is an empty struct (C++ and capnp-es agree)", () => {
    const b = new WireBuilder();
    b.alloc(0, 1);
    const msg = b.serialize();
    const out = decodeUnpacked(msg);
    expect(out.level).toBe(0);
    expect([...out.length]).toEqual(new Array(FIELD_COUNT).fill(0));
    expect(decodeRef(msg, false)).toEqual({ level: 0, fields: new Array(FIELD_COUNT).fill("") });
  });

  test("older writer: no data word and only 3 pointers", () => {
    const out = decodeUnpacked(buildLogger(spec(["ts", "host", "lg"], 7, 0), new Rng(1), false));
    expect(out.level).toBe(0);
    expect(new TextDecoder().decode(fieldBytes(out, 1))).toBe("host");
    for (let i = 3; i < FIELD_COUNT; i++) expect(out.length[i]).toBe(0);
  });

  test("newer writer: extra data words and pointers are ignored, even garbage ones", () => {
    const b = new WireBuilder();
    const s = rootStruct(b, 20, 3);
    b.setU32(0, s, 0, 0xabcd0005); // level 5; the upper half belongs to some newer field
    b.setWord(0, s + 1, 0xffffffff, 0xffffffff);
    const t = textObject(b, 0, "msg");
    b.link(0, s + 3 + 7, 0, t.at, 1, t.hi, "near");
    for (let i = 15; i < 20; i++) b.setWord(0, s + 3 + i, 0xfffffffb, 0x7777); // far to nowhere
    const out = decodeUnpacked(b.serialize());
    expect(out.level).toBe(5);
    expect(new TextDecoder().decode(fieldBytes(out, 7))).toBe("msg");
  });

  test("levels 0..65535 are reported as raw numbers", () => {
    const out = new LogFields();
    const rng = new Rng(3);
    for (const level of [0, 1, 11, 12, 255, 256, 4096, 65535]) {
      decodeUnpacked(buildLogger(spec(["t"], level), rng, false), out);
      expect(out.level).toBe(level);
    }
  });

  test("empty text: one-byte NUL list and null pointer", () => {
    const out = decodeUnpacked(buildLogger(spec(["", null, "x"]), new Rng(1), false));
    expect([out.length[0], out.length[1], out.length[2]]).toEqual([0, 0, 1]);
  });

  test("zero-sized struct encoded with offset -1 (C++ style) is an empty struct", () => {
    const b = new WireBuilder();
    b.alloc(0, 1);
    b.setWord(0, 0, 0xfffffffc, 0); // struct, offset -1, 0 data words, 0 pointers
    const out = decodeUnpacked(b.serialize());
    expect(out.level).toBe(0);
    expect([...out.length]).toEqual(new Array(FIELD_COUNT).fill(0));
  });

  test("all output fields are overwritten on every decode", () => {
    const out = new LogFields();
    out.start.fill(5);
    out.length.fill(5);
    out.level = 9;
    decodeUnpacked(buildLogger(spec([]), new Rng(1), false), out);
    expect([...out.length]).toEqual(new Array(FIELD_COUNT).fill(0));
    expect(out.level).toBe(3);
  });

  test("no per-message buffer allocation: out.bytes is the same scratch across frames", () => {
    const rng = new Rng(5);
    const out = new LogFields();
    const packed = pack(buildLogger(randomSpec(rng), rng, false));
    decodeLoggerFrame(packed, 0, packed.length, out);
    const first = out.bytes;
    for (let i = 0; i < 50; i++) decodeLoggerFrame(packed, 0, packed.length, out);
    expect(out.bytes).toBe(first);
  });
});

describe("LoggerMsg reader: rejections", () => {
  test("root pointer of the wrong kind", () => {
    for (const kind of [1, 3]) {
      const b = new WireBuilder();
      b.alloc(0, 2);
      b.setWord(0, 0, kind, 0x12);
      expect(rejection(b.serialize())).toBe("wrong-root-type");
    }
    const b = new WireBuilder(); // far pointer landing on a list pointer
    b.alloc(0, 1);
    const t = textObject(b, 1, "x");
    b.link(0, 0, 1, t.at, 1, t.hi, "far");
    expect(rejection(b.serialize())).toBe("wrong-root-type");
    expect(attempt(() => decodeRef(b.serialize(), false)).ok).toBe(false);
  });

  test("Text pointer that is not a byte list", () => {
    const cases: [number, number][] = [
      [0, 0x00010000], // struct pointer
      [1, (3 << 3) | 1], // list of bits
      [1, (3 << 3) | 3], // list of 16-bit values
      [1, (1 << 3) | 7], // composite list
      [3, 0], // capability
    ];
    for (const [kind, hi] of cases) {
      const b = new WireBuilder();
      const s = rootStruct(b);
      b.alloc(0, 2);
      b.setWord(0, s + 1, kind, hi);
      expect(rejection(b.serialize())).toBe("not-text");
      expect(attempt(() => decodeRef(b.serialize(), false)).ok).toBe(false);
    }
  });

  test("Text that is empty or not NUL-terminated (capnp-es does not check the NUL; C++ does)", () => {
    const b = new WireBuilder();
    const s = rootStruct(b);
    const at = b.alloc(0, 1);
    b.setBytes(0, at, utf8("abcdefgh"));
    b.link(0, s + 1, 0, at, 1, (8 << 3) | 2, "near");
    expect(rejection(b.serialize())).toBe("text-not-terminated");
    expect(decodeRef(b.serialize(), false).fields[0]).toBe("abcdefg"); // capnp-es drops the last byte

    const z = new WireBuilder();
    const s2 = rootStruct(z);
    const at2 = z.alloc(0, 1);
    z.link(0, s2 + 1, 0, at2, 1, 2, "near"); // byte list of length 0
    expect(rejection(z.serialize())).toBe("text-not-terminated");
    expect(attempt(() => decodeRef(z.serialize(), false)).ok).toBe(false);
  });

  test("oversized list lengths and out-of-bounds offsets", () => {
    for (const [lo, hi] of [
      [1, ((2 ** 29 - 1) << 3) | 2], // 512 MiB text
      [1 | (1000 << 2), (1 << 3) | 2], // far beyond the segment
      [1 | (-100 << 2), (1 << 3) | 2], // before the segment (into the segment table)
    ]) {
      const b = new WireBuilder();
      const s = rootStruct(b);
      b.setWord(0, s + 1, lo >>> 0, hi >>> 0);
      expect(rejection(b.serialize())).toBe("pointer-out-of-bounds");
    }
  });

  test("struct larger than its segment", () => {
    const b = new WireBuilder();
    b.alloc(0, 4);
    b.setWord(0, 0, 0, 1 | (15 << 16));
    expect(rejection(b.serialize())).toBe("pointer-out-of-bounds");
  });

  test("text straddling two segments", () => {
    const b = new WireBuilder();
    const s = rootStruct(b);
    const t = textObject(b, 0, "0123456789abcdef");
    b.link(0, s + 1, 0, t.at, 1, ((40 << 3) | 2) >>> 0, "near"); // claims 40 bytes, segment ends first
    b.alloc(1, 8);
    expect(rejection(b.serialize())).toBe("pointer-out-of-bounds");
  });

  test("far pointers: unknown segment, landing pad out of bounds, bad double-far pad", () => {
    const farTo = (word: number, double = false) => (((word << 3) | (double ? 6 : 2)) >>> 0);
    const unknown = new WireBuilder();
    unknown.alloc(0, 1);
    unknown.setWord(0, 0, farTo(0), 7);
    expect(rejection(unknown.serialize())).toBe("far-pointer");

    const pad = new WireBuilder();
    pad.alloc(0, 1);
    pad.alloc(1, 2);
    pad.setWord(0, 0, farTo(2), 1); // pad at word 2 of a 2-word segment
    expect(rejection(pad.serialize())).toBe("pointer-out-of-bounds");
    pad.setWord(0, 0, farTo(1, true), 1); // double pad needs 2 words, only 1 left
    expect(rejection(pad.serialize())).toBe("pointer-out-of-bounds");

    const notFar = new WireBuilder();
    notFar.alloc(0, 1);
    notFar.alloc(1, 4);
    notFar.setWord(1, 0, 0, 0); // pad word 0 should be a far pointer
    notFar.setWord(1, 1, 0, 1 | (15 << 16));
    notFar.setWord(0, 0, farTo(0, true), 1);
    expect(rejection(notFar.serialize())).toBe("far-pointer");
  });

  test("cyclic and chained far pointers terminate with an error", () => {
    const farWord = (word: number, double: boolean) => (((word << 3) | (double ? 6 : 2)) >>> 0);
    // Root is a far pointer whose landing pad is itself.
    const self = new WireBuilder();
    self.alloc(0, 1);
    self.setWord(0, 0, farWord(0, false), 0);
    expect(rejection(self.serialize())).toBe("far-pointer");
    // Two far pointers pointing at each other across segments.
    const pair = new WireBuilder();
    pair.alloc(0, 1);
    pair.alloc(1, 1);
    pair.setWord(0, 0, farWord(0, false), 1);
    pair.setWord(1, 0, farWord(0, false), 0);
    expect(rejection(pair.serialize())).toBe("far-pointer");
    // Double-far whose pad is itself a double-far to itself.
    const dbl = new WireBuilder();
    dbl.alloc(0, 2);
    dbl.setWord(0, 0, farWord(0, true), 0);
    expect(rejection(dbl.serialize())).toBe("far-pointer");
    // Double-far pad whose tag word is a far pointer.
    const tag = new WireBuilder();
    tag.alloc(0, 1);
    tag.alloc(1, 3);
    tag.setWord(1, 0, farWord(2, false), 1);
    tag.setWord(1, 1, farWord(0, false), 1);
    tag.setWord(0, 0, farWord(0, true), 1);
    expect(rejection(tag.serialize())).toBe("far-pointer");
    // Text field: far pointer landing on another far pointer.
    const text = new WireBuilder();
    const s = rootStruct(text);
    text.alloc(1, 2);
    text.setWord(1, 0, farWord(1, false), 1);
    text.setWord(1, 1, farWord(0, false), 1);
    text.setWord(0, s + 1, farWord(0, false), 1);
    expect(rejection(text.serialize())).toBe("far-pointer");
  });

  test("traversal limit: texts aliasing the same bytes cannot exceed the message size", () => {
    const b = new WireBuilder();
    const s = rootStruct(b);
    const t = textObject(b, 0, "x".repeat(1000));
    for (let i = 0; i < FIELD_COUNT; i++) b.link(0, s + 1 + i, 0, t.at, 1, t.hi, "near");
    expect(rejection(b.serialize())).toBe("traversal-limit");
    // Aliasing within the budget is fine (capnp allows it).
    const ok = new WireBuilder();
    const s2 = rootStruct(ok);
    const t2 = textObject(ok, 0, "x".repeat(100));
    for (let i = 0; i < 2; i++) ok.link(0, s2 + 1 + i, 0, t2.at, 1, t2.hi, "near");
    expect(rejection(ok.serialize())).toBe("accepted");
  });
});

describe("segment table", () => {
  const withTable = (words: number[], bodyWords: number): Uint8Array => {
    const out = new Uint8Array(words.length * 4 + bodyWords * 8 + ((words.length * 4) % 8));
    const v = new DataView(out.buffer);
    words.forEach((w, i) => v.setUint32(i * 4, w >>> 0, true));
    return out;
  };

  test("huge and limit segment counts", () => {
    for (const count of [0xffffffff, 0x80000000, 511, 1511]) {
      const msg = withTable([count, 1], 1);
      expect(rejection(msg)).toBe("segment-table");
    }
    // 511 segments (the most allowed): root pointer in segment 0, the rest empty.
    const sizes = [1, ...new Array(510).fill(0)];
    const msg = withTable([510, ...sizes], 1);
    expect(rejection(msg)).toBe("accepted");
  });

  test("empty segments are valid (C++ accepts; capnp-es wrongly rejects the frame header)", () => {
    const b = new WireBuilder();
    const s = rootStruct(b);
    const t = textObject(b, 0, "hi");
    b.link(0, s + 8, 0, t.at, 1, t.hi, "near");
    b.alloc(3, 0); // segments 1..3 exist but are empty
    const msg = b.serialize();
    expect(new TextDecoder().decode(fieldBytes(decodeUnpacked(msg), 7))).toBe("hi");
    const withEmpty = withTable([2, 1, 0, 0], 1); // 3 segments: root word only, null root
    expect(rejection(withEmpty)).toBe("accepted");
    expect(String((attempt(() => decodeRef(withEmpty, false)) as { error: unknown }).error)).toContain("CAPNP-TS001");
  });

  test("sizes that do not match the bytes present", () => {
    expect(rejection(withTable([0, 2], 1))).toBe("segment-table"); // claims more
    expect(rejection(withTable([0, 1], 2))).toBe("segment-table"); // trailing word
    expect(rejection(withTable([0, 0xffffffff], 1))).toBe("segment-table");
    expect(rejection(withTable([1, 0, 1], 1))).toBe("segment-table"); // segment 0 too small for root
    expect(rejection(withTable([0, 0], 0))).toBe("segment-table");
    expect(rejection(new Uint8Array(0))).toBe("segment-table");
  });
});
