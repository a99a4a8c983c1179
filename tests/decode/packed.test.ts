import { describe, expect, test } from "bun:test";
import { DecodeError } from "../../src/decode/decode-error.ts";
import { MAX_UNPACKED_BYTES, Scratch, unpackInto, unpackLimit } from "../../src/decode/packed.ts";
import { pack, Rng } from "./support.ts";

function unpack(packed: Uint8Array, scratch = new Scratch(16)): Uint8Array {
  const n = unpackInto(packed, 0, packed.length, scratch);
  return scratch.bytes.slice(0, n);
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError) return e.reason;
    throw e;
  }
  return "accepted";
}

describe("unpackInto", () => {
  test("spec example: mixed tags and a zero run", () => {
    // From the Cap'n Proto encoding spec.
    const packed = new Uint8Array([0x51, 0x08, 0x03, 0x02, 0x31, 0x19, 0xaa, 0x01, 0x00, 0x00]);
    expect([...unpack(packed)]).toEqual([
      0x08, 0, 0, 0, 0x03, 0, 0x02, 0, 0x19, 0, 0, 0, 0xaa, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });

  test("0xff word followed by a verbatim run (which may contain zeros)", () => {
    const words = [1, 2, 3, 4, 5, 6, 7, 8, 0, 9, 0, 9, 0, 9, 0, 9, 10, 11, 12, 13, 14, 15, 16, 17];
    const packed = new Uint8Array([0xff, ...words.slice(0, 8), 2, ...words.slice(8)]);
    expect([...unpack(packed)]).toEqual(words);
  });

  test("long verbatim and zero runs", () => {
    const src = new Uint8Array(8 * 600);
    for (let i = 0; i < 8 * 300; i++) src[i] = 1 + (i % 200);
    expect(unpack(pack(src))).toEqual(src);
  });

  test("empty input unpacks to nothing", () => {
    expect(unpackInto(new Uint8Array(0), 0, 0, new Scratch())).toBe(0);
  });

  test("respects start/end inside a larger buffer", () => {
    const inner = new Uint8Array([0x01, 0x07, 0x00, 0x01]);
    const outer = new Uint8Array([0xff, 0xff, ...inner, 0xff]);
    const s = new Scratch();
    expect(unpackInto(outer, 2, 6, s)).toBe(24);
    expect([...s.bytes.subarray(0, 24)]).toEqual([7, ...new Array(23).fill(0)]);
  });

  test("reused scratch: zero runs overwrite earlier contents", () => {
    const s = new Scratch(64);
    const ones = new Uint8Array(32).fill(1);
    unpackInto(pack(ones), 0, pack(ones).length, s);
    const zeros = pack(new Uint8Array(32));
    expect(unpackInto(zeros, 0, zeros.length, s)).toBe(32);
    expect([...s.bytes.subarray(0, 32)]).toEqual(new Array(32).fill(0));
  });

  test("grows the scratch and keeps what was already written", () => {
    const rng = new Rng(7);
    const src = new Uint8Array(8 * 5000);
    for (let i = 0; i < src.length; i++) src[i] = rng.chance(0.5) ? 0 : rng.int(256);
    const s = new Scratch(8);
    expect(unpack(pack(src), s)).toEqual(src);
    expect(s.words.buffer).toBe(s.bytes.buffer);
  });

  test("random words round-trip through random (legal) packings", () => {
    const rng = new Rng(12345);
    const s = new Scratch(8);
    for (let c = 0; c < 2000; c++) {
      const src = new Uint8Array(8 * rng.int(80));
      const density = rng.int(4);
      for (let i = 0; i < src.length; i++) {
        src[i] = density === 0 ? 0 : rng.int(density + 1) === 0 ? 0 : 1 + rng.int(255);
      }
      const packed = pack(src, rng);
      const n = unpackInto(packed, 0, packed.length, s);
      expect(s.bytes.subarray(0, n)).toEqual(src);
    }
  });

  test("every truncation of a valid stream is rejected or is a shorter valid stream", () => {
    const rng = new Rng(99);
    const src = new Uint8Array(8 * 60);
    for (let i = 0; i < src.length; i++) src[i] = rng.chance(0.4) ? 0 : rng.int(256);
    const packed = pack(src, rng);
    const s = new Scratch();
    for (let cut = 0; cut < packed.length; cut++) {
      const r = reason(() => unpackInto(packed, 0, cut, s));
      if (r !== "accepted") expect(r).toBe("truncated-packed");
    }
  });

  test("truncated tag streams", () => {
    expect(reason(() => unpack(new Uint8Array([0x00])))).toBe("truncated-packed"); // zero run, no count
    expect(reason(() => unpack(new Uint8Array([0xff, 1, 2, 3, 4, 5, 6, 7, 8])))).toBe("truncated-packed"); // no count
    expect(reason(() => unpack(new Uint8Array([0xff, 1, 2, 3])))).toBe("truncated-packed");
    expect(reason(() => unpack(new Uint8Array([0xff, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 2])))).toBe("truncated-packed");
    expect(reason(() => unpack(new Uint8Array([0x03, 1])))).toBe("truncated-packed"); // tag wants 2 bytes
    expect(reason(() => unpack(new Uint8Array([0x03, 1, 2])))).toBe("accepted");
  });

  test("zero runs cannot blow up memory: hard cap and expansion ratio", () => {
    // 10 KiB of zero-run pairs would be 10 MiB unpacked; the ratio cap stops it near 144 KiB.
    const bomb = new Uint8Array(10 * 1024); // (0x00 tag, 255 count) pairs: 2 KiB each
    for (let i = 1; i < bomb.length; i += 2) bomb[i] = 255;
    const s = new Scratch(16);
    expect(reason(() => unpackInto(bomb, 0, bomb.length, s))).toBe("too-large");
    expect(s.bytes.length).toBeLessThanOrEqual(unpackLimit(bomb.length));
    expect(unpackLimit(10 * 1024 * 1024)).toBe(MAX_UNPACKED_BYTES);
    expect(unpackLimit(100)).toBe(100 * 8 + 64 * 1024);
  });

  test("a legitimately large message (text-like, 1 MiB) unpacks", () => {
    const src = new Uint8Array(1 << 20);
    for (let i = 0; i < src.length; i++) src[i] = 32 + (i % 90);
    const packed = pack(src);
    expect(unpack(packed)).toEqual(src);
  });

  test("rejects a bad range argument with RangeError (caller bug, not bad input)", () => {
    expect(() => unpackInto(new Uint8Array(4), 2, 8, new Scratch())).toThrow(RangeError);
  });
});

test("the expansion cap holds even after an earlier message grew the scratch buffer", () => {
  const scratch = new Scratch();
  // 1 MiB of zero bytes unpacks to 4 MiB (within its own cap) and leaves the scratch that large.
  unpackInto(new Uint8Array(1024 * 1024), 0, 1024 * 1024, scratch);
  // 16 KiB of (0x00, 0xff) pairs would unpack to 16 MiB; its own cap is 8 × 16 KiB + 64 KiB.
  const bomb = new Uint8Array(16 * 1024);
  for (let i = 1; i < bomb.length; i += 2) bomb[i] = 0xff;
  expect(() => unpackInto(bomb, 0, bomb.length, scratch)).toThrow(/exceeds 196608 bytes/);
});
