// Hostile TCP input against the real server: thousands of random and mutated frames from several
// concurrent connections, while one well-behaved client keeps sending numbered records. The server
// must close each hostile connection at its bad frame with one log line naming a decode reason (never
// "internal", never a stack trace), keep running, write the good client's records in order exactly
// once with a gapless sequence, and exit 0 on SIGTERM.
//
// Every hostile payload is one frame (or a few) followed by a length over the 10 MiB limit, so the
// server rejects the connection at the latest at that length, even when the mutated frame happens to
// be a valid LoggerMsg (those are written like any record; the file's sequence stays gapless).
// All payloads come from a seeded PRNG (LOG_SERVER_HOSTILE_SEED overrides the seed).
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { MAX_FRAME_BYTES } from "../../src/config.ts";
import { DecodeError } from "../../src/decode/decode-error.ts";
import { decodeHelloFrame, isUnpackedHello } from "../../src/decode/hello-msg.ts";
import { decodeLoggerFrame } from "../../src/decode/logger-msg.ts";
import { ByteBuffer } from "../../src/format/byte-buffer.ts";
import { formatLine } from "../../src/format/line-format.ts";
import { FIELD_COUNT, LogFields } from "../../src/record/log-fields.ts";
import { buildLogger, buildWithCapnpEs, type Link, pack, randomSpec, Rng, utf8, WireBuilder } from "../decode/support.ts";
import { frame, logFrame, packedLoggerMsg } from "../support/frames.ts";
import { connectTcp, type ServerProcess, startServer, tempDir, writeAll } from "../support/server-process.ts";
import { freePort, scrapeUntil } from "../metrics/support.ts";

const SEED = Number(process.env.LOG_SERVER_HOSTILE_SEED ?? 0x4057113);
/** Hostile connections against the server process (each gets one payload). */
const HOSTILE_CONNECTIONS = 3000;
const HOSTILE_CLIENTS = 6;
/** Payloads checked in this process only (fast, so many more). */
const IN_PROCESS_PAYLOADS = 30_000;
/** Payloads of 1–10 MiB among the hostile connections (each costs the server a real decode). */
const BIG_PAYLOADS = 3;

/** A frame length over the limit: the server rejects the connection here at the latest. */
const TERMINATOR = new Uint8Array([0xff, 0xff, 0xff, 0xff]);

type Kind =
  | "random-bytes"
  | "truncated"
  | "flipped"
  | "segment-table"
  | "bad-pointer"
  | "far-cycle"
  | "far-chain"
  | "wrong-kind"
  | "aliasing"
  | "zero-bomb"
  | "raw-unpacked"
  | "oversize"
  | "valid-many-segments"
  | "big";

interface Hostile {
  kind: Kind;
  /** The frames (each with its length prefix), then the terminator unless the frames already break the framing. */
  bytes: Uint8Array;
  /** The frame payloads, for the in-process check (an oversize length has none). */
  payloads: Uint8Array[];
}

// ---------------------------------------------------------------------------------------------------
// Payload generators.

function randomBytes(rng: Rng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.int(256);
  return out;
}

/** A valid packed LoggerMsg: capnp-es, either from the usual test fields or fully random ones. */
function validPacked(rng: Rng, index: number): Uint8Array {
  if (rng.chance(0.5)) {
    return packedLoggerMsg({
      timestamp: "2026-05-18T10:00:00.123456789Z",
      hostname: "hostile-host",
      loggerName: "hostile",
      level: rng.int(12),
      filename: "evil.py",
      functionName: "attack",
      lineNumber: String(index),
      message: `hostile payload ${index}`,
      stackTrace: rng.chance(0.3) ? "Traceback (most recent call last):\n  boom" : undefined,
    });
  }
  return buildWithCapnpEs(rng).packed;
}

/** An unpacked LoggerMsg laid out by hand, with the position of every pointer word in it. */
interface Tracked {
  b: WireBuilder;
  /** [segment, word] of the root pointer, then of each non-null text pointer. */
  pointers: Array<[number, number]>;
  structSeg: number;
  struct: number;
}

function tracked(rng: Rng, segments: number): Tracked {
  const b = new WireBuilder();
  const place = () => rng.int(segments);
  const how = (from: number, to: number): Link =>
    from !== to ? rng.pick(["far", "double-far"] as const) : rng.chance(0.2) ? rng.pick(["far", "double-far"] as const) : "near";
  b.alloc(0, 1);
  const structSeg = place();
  const struct = b.alloc(structSeg, 1 + FIELD_COUNT);
  b.link(0, 0, structSeg, struct, 0, (1 | (FIELD_COUNT << 16)) >>> 0, how(0, structSeg), place());
  b.setU32(structSeg, struct, 0, rng.int(12));
  const pointers: Array<[number, number]> = [[0, 0]];
  for (let i = 0; i < FIELD_COUNT; i++) {
    if (rng.chance(0.3)) continue;
    const text = utf8(`field ${i} ${"x".repeat(rng.int(40))}`);
    const seg = place();
    const at = b.alloc(seg, Math.ceil((text.length + 1) / 8));
    b.setBytes(seg, at, text);
    b.link(structSeg, struct + 1 + i, seg, at, 1, (((text.length + 1) << 3) | 2) >>> 0, how(structSeg, seg), place());
    pointers.push([structSeg, struct + 1 + i]);
  }
  return { b, pointers, structSeg, struct };
}

/** A pointer word that points somewhere it must not. */
function badPointer(rng: Rng, b: WireBuilder, seg: number, word: number): [number, number] {
  const segWords = b.segments[seg].length / 8;
  const farOffset = () => rng.pick([segWords - word + rng.int(8), -(word + 2 + rng.int(8)), 0x1fffffff, -0x20000000, rng.int(1 << 30) - (1 << 29)]);
  switch (rng.int(9)) {
    case 0: // struct beyond the segment
      return [((farOffset() << 2) | 0) >>> 0, (1 | (FIELD_COUNT << 16)) >>> 0];
    case 1: // struct sizes too large
      return [0, rng.pick([0xffffffff, 0xffff0001, 0x0001ffff])];
    case 2: // byte list longer than the segment
      return [((rng.int(4) << 2) | 1) >>> 0, ((rng.pick([segWords * 8 + 1, 0x1fffffff, 1 + rng.int(1 << 20)]) << 3) | 2) >>> 0];
    case 3: // byte list starting outside
      return [((farOffset() << 2) | 1) >>> 0, ((8 << 3) | 2) >>> 0];
    case 4: // far pointer to a segment that does not exist
      return [((rng.int(4) << 3) | 2) >>> 0, rng.pick([b.segments.length, b.segments.length + rng.int(500), 0xffffffff, 511, 512])];
    case 5: // far pointer whose landing pad is outside its segment
      return [((rng.pick([segWords, 0x1fffffff, segWords + rng.int(100)]) << 3) | 2) >>> 0, rng.int(b.segments.length)];
    case 6: // double-far whose two-word pad would straddle the end of the segment
      return [(((b.segments[0].length / 8 - 1) << 3) | 6) >>> 0, 0];
    case 7: // "other" pointer (capability)
      return [3, rng.int(16)];
    default: // random bits
      return [rng.u32(), rng.u32()];
  }
}

function serializeAndPack(rng: Rng, b: WireBuilder): Uint8Array {
  return pack(b.serialize(), rng);
}

function segmentTable(rng: Rng): Uint8Array {
  const t = tracked(rng, 1 + rng.int(4));
  const bytes = t.b.serialize();
  const view = new DataView(bytes.buffer);
  const count = view.getUint32(0, true) + 1;
  switch (rng.int(5)) {
    case 0: // a huge segment count
      view.setUint32(0, rng.pick([511, 512, 1000, 0xffff, 0xfffffffe, 0xffffffff, rng.u32()]), true);
      return pack(bytes, rng);
    case 1: // a segment larger than the message
      view.setUint32(4 + 4 * rng.int(count), rng.pick([bytes.length / 8, 0xffffffff, 0x20000000, rng.u32()]), true);
      return pack(bytes, rng);
    case 2: // a segment one word short: trailing bytes
      view.setUint32(4, Math.max(0, view.getUint32(4, true) - 1), true);
      return pack(bytes, rng);
    case 3: // the message cut by whole words
      return pack(bytes.subarray(0, 8 * rng.int(bytes.length / 8)), rng);
    default: // segment 0 empty: no room for the root pointer
      view.setUint32(4, 0, true);
      return pack(bytes, rng);
  }
}

/** Far pointers that loop: a pad pointing at itself, two segments pointing at each other, double-far pads that are double-far. */
function farCycle(rng: Rng): Uint8Array {
  const b = new WireBuilder();
  switch (rng.int(5)) {
    case 0: // root → pad in segment 0 → itself
      b.alloc(0, 2);
      b.setWord(0, 0, (1 << 3) | 2, 0);
      b.setWord(0, 1, (1 << 3) | 2, 0);
      break;
    case 1: // segment 0 ↔ segment 1
      b.alloc(0, 1);
      b.alloc(1, 1);
      b.setWord(0, 0, (0 << 3) | 2, 1);
      b.setWord(1, 0, (0 << 3) | 2, 0);
      break;
    case 2: // double-far whose pad is a double-far to itself
      b.alloc(0, 1);
      b.alloc(1, 2);
      b.setWord(0, 0, (0 << 3) | 6, 1);
      b.setWord(1, 0, (0 << 3) | 6, 1);
      b.setWord(1, 1, 0, (1 | (1 << 16)) >>> 0);
      break;
    case 3: {
      // double-far to a struct that lies on the root pointer itself: its one pointer is that same double-far
      b.alloc(0, 1);
      b.alloc(1, 2);
      b.setWord(0, 0, (0 << 3) | 6, 1);
      b.setWord(1, 0, (0 << 3) | 2, 0); // far to segment 0, word 0
      b.setWord(1, 1, 0, (0 | (1 << 16)) >>> 0); // tag: struct, 0 data words, 1 pointer
      break;
    }
    default: {
      // a valid struct whose text pointers are far pointers to pads that are far pointers back to the struct
      const t = tracked(rng, 2);
      const other = t.structSeg === 0 ? 1 : 0;
      const pad = t.b.alloc(other, 1);
      t.b.setWord(other, pad, ((t.struct + 1) << 3) | 2, t.structSeg);
      for (let i = 0; i < 1 + rng.int(FIELD_COUNT); i++) t.b.setWord(t.structSeg, t.struct + 1 + i, (pad << 3) | 2, other);
      return serializeAndPack(rng, t.b);
    }
  }
  return serializeAndPack(rng, b);
}

/** A chain of far pointers through up to 510 segments (the hop after the first must be refused). */
function farChain(rng: Rng): Uint8Array {
  const b = new WireBuilder();
  const segments = 2 + rng.int(509);
  for (let s = 0; s < segments; s++) b.alloc(s, 1);
  for (let s = 0; s < segments - 1; s++) b.setWord(s, 0, rng.chance(0.5) ? 2 : 6, s + 1);
  b.setWord(segments - 1, 0, 0, (1 | (1 << 16)) >>> 0);
  return serializeAndPack(rng, b);
}

/** Right pointers to the wrong things: a list as root, a struct as Text, bit lists, Text without its NUL. */
function wrongKind(rng: Rng): Uint8Array {
  const t = tracked(rng, 1 + rng.int(2));
  const b = t.b;
  const [seg, word] = rng.pick(t.pointers.slice(1).length > 0 && rng.chance(0.7) ? t.pointers.slice(1) : t.pointers);
  const isRoot = seg === 0 && word === 0;
  const lo = b.segments[seg][word * 8] | (b.segments[seg][word * 8 + 1] << 8) | (b.segments[seg][word * 8 + 2] << 16) | (b.segments[seg][word * 8 + 3] << 24);
  if ((lo & 3) === 2) {
    // Reached through a far pointer: replace it with a near one of the wrong kind.
    b.setWord(seg, word, 0, 0);
  }
  if (isRoot) {
    b.setWord(0, 0, rng.pick([1, 3, 0xfffffffd]), ((16 << 3) | 2) >>> 0); // a list, or "other"
  } else {
    const target = b.alloc(seg, 2);
    const offset = target - word - 1;
    switch (rng.int(4)) {
      case 0: // a struct where Text belongs
        b.setWord(seg, word, (offset << 2) >>> 0, (1 | (1 << 16)) >>> 0);
        break;
      case 1: // a list of bits / pointers / composite
        b.setWord(seg, word, ((offset << 2) | 1) >>> 0, ((8 << 3) | rng.pick([0, 1, 3, 5, 6, 7])) >>> 0);
        break;
      case 2: // a byte list without the terminating NUL
        b.setBytes(seg, target, utf8("no-nul!!"));
        b.setWord(seg, word, ((offset << 2) | 1) >>> 0, ((8 << 3) | 2) >>> 0);
        break;
      default: // an empty byte list (not even the NUL)
        b.setWord(seg, word, ((offset << 2) | 1) >>> 0, 2);
    }
  }
  return serializeAndPack(rng, b);
}

/** All 15 Text pointers on one large text: many times more text than message (traversal limit). */
function aliasing(rng: Rng): Uint8Array {
  const b = new WireBuilder();
  b.alloc(0, 1);
  const struct = b.alloc(0, 1 + FIELD_COUNT);
  b.link(0, 0, 0, struct, 0, (1 | (FIELD_COUNT << 16)) >>> 0, "near");
  const text = utf8("A".repeat(200 + rng.int(4000)));
  const at = b.alloc(0, Math.ceil((text.length + 1) / 8));
  b.setBytes(0, at, text);
  for (let i = 0; i < FIELD_COUNT; i++) b.link(0, struct + 1 + i, 0, at, 1, (((text.length + 1) << 3) | 2) >>> 0, "near");
  return serializeAndPack(rng, b);
}

/** Zero runs: two packed bytes expand to 2 KiB. */
function zeroBomb(rng: Rng): Uint8Array {
  const pairs = 1 + rng.int(rng.chance(0.5) ? 64 : 4096);
  const out = new Uint8Array(pairs * 2);
  for (let i = 0; i < pairs; i++) out[2 * i + 1] = rng.chance(0.9) ? 0xff : rng.int(256);
  return out;
}

/**
 * An unpacked message sent as it is (TCP frames are packed): one segment starts with four zero
 * bytes and goes to the handshake decoder; more segments reach the packed decoder as garbage.
 */
function rawUnpacked(rng: Rng): Uint8Array {
  const t = tracked(rng, rng.chance(0.7) ? 1 : 2 + rng.int(3));
  if (rng.chance(0.6)) {
    const [seg, word] = rng.pick(t.pointers);
    const [lo, hi] = badPointer(rng, t.b, seg, word);
    t.b.setWord(seg, word, lo, hi);
  }
  let bytes = t.b.serialize();
  if (rng.chance(0.3)) bytes = bytes.subarray(0, Math.max(4, bytes.length - 1 - rng.int(7))); // not whole words
  return bytes;
}

function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const flips = 1 + rng.int(4);
  for (let k = 0; k < flips; k++) out[rng.int(out.length)] ^= 1 + rng.int(255);
  return out;
}

/** Big payloads: a packed stream of 1–10 MiB that is mostly zero runs, random bytes, or a cut-off valid message. */
function big(rng: Rng): Uint8Array {
  const size = (1 + rng.int(10)) * 1024 * 1024 - rng.int(8);
  switch (rng.int(3)) {
    case 0:
      return new Uint8Array(Math.min(size, MAX_FRAME_BYTES)); // zero words: (0x00, count) pairs, up to 40 MiB unpacked
    case 1:
      return randomBytes(rng, Math.min(size, MAX_FRAME_BYTES));
    default: {
      const packed = packedLoggerMsg({ hostname: "hostile-host", message: "B".repeat(Math.min(size, MAX_FRAME_BYTES - 1024)) });
      return packed.subarray(0, packed.length - 1 - rng.int(100));
    }
  }
}

/** Payload number `index` of the run; `bigLeft` says whether a big one may still be chosen. */
function hostile(rng: Rng, index: number, allowBig: boolean): Hostile {
  const kinds: Kind[] = [
    "random-bytes", "truncated", "flipped", "flipped", "segment-table", "bad-pointer", "bad-pointer", "far-cycle",
    "far-chain", "wrong-kind", "aliasing", "zero-bomb", "raw-unpacked", "raw-unpacked", "oversize", "valid-many-segments",
  ];
  const kind: Kind = allowBig && rng.chance(0.01) ? "big" : rng.pick(kinds);
  let payloads: Uint8Array[];
  switch (kind) {
    case "random-bytes":
      payloads = [randomBytes(rng, 1 + rng.int(rng.chance(0.9) ? 300 : 70_000))];
      break;
    case "truncated": {
      const packed = validPacked(rng, index);
      payloads = [packed.subarray(0, 1 + rng.int(packed.length - 1))];
      break;
    }
    case "flipped":
      payloads = [mutate(rng, validPacked(rng, index))];
      break;
    case "segment-table":
      payloads = [segmentTable(rng)];
      break;
    case "bad-pointer": {
      const t = tracked(rng, 1 + rng.int(4));
      const hits = 1 + rng.int(2);
      for (let k = 0; k < hits; k++) {
        const [seg, word] = rng.chance(0.3) ? t.pointers[0] : rng.pick(t.pointers);
        const [lo, hi] = badPointer(rng, t.b, seg, word);
        t.b.setWord(seg, word, lo, hi);
      }
      payloads = [serializeAndPack(rng, t.b)];
      break;
    }
    case "far-cycle":
      payloads = [farCycle(rng)];
      break;
    case "far-chain":
      payloads = [farChain(rng)];
      break;
    case "wrong-kind":
      payloads = [wrongKind(rng)];
      break;
    case "aliasing":
      payloads = [aliasing(rng)];
      break;
    case "zero-bomb":
      payloads = [zeroBomb(rng)];
      break;
    case "raw-unpacked":
      payloads = [rawUnpacked(rng)];
      break;
    case "valid-many-segments": {
      // Legal but unusual: texts spread over up to 100 segments behind far and double-far pointers,
      // then one byte flipped. Often still valid (and then written), often not.
      const unpacked = buildLogger(randomSpec(rng), rng, true, 2 + rng.int(99));
      payloads = [mutate(rng, pack(unpacked, rng))];
      break;
    }
    case "big":
      payloads = [big(rng)];
      break;
    case "oversize": {
      const length = MAX_FRAME_BYTES + 1 + rng.int(0xffffffff - MAX_FRAME_BYTES);
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, length, false);
      return { kind, bytes: header, payloads: [] };
    }
  }
  // Sometimes a valid record first, so the bad frame is not the connection's first.
  if (rng.chance(0.15)) payloads.unshift(validPacked(rng, index));
  const frames = payloads.map((payload) => frame(payload));
  return { kind, bytes: concatAll([...frames, TERMINATOR]), payloads };
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The in-process check: the server's decoders on each payload, as a connection would run them.

const fields = new LogFields();
const line = new ByteBuffer(64 * 1024);

interface Outcome {
  /** Frames that decoded (records the server writes; a handshake is not one). */
  records: number;
  /** Why the connection ends: a DecodeError reason, "oversize", or "internal" (a bug). */
  reason: string;
  detail: string;
}

function decodeLikeTheServer(h: Hostile): Outcome {
  let records = 0;
  let frameNumber = 0;
  for (const payload of h.payloads) {
    frameNumber++;
    try {
      if (frameNumber === 1 && isUnpackedHello(payload, 0, payload.length)) {
        decodeHelloFrame(payload, 0, payload.length);
        continue;
      }
      decodeLoggerFrame(payload, 0, payload.length, fields);
      line.pos = 0;
      formatLine(line, 0, fields);
      records++;
    } catch (error) {
      if (error instanceof DecodeError) return { records, reason: error.reason, detail: error.message };
      return { records, reason: "internal", detail: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error) };
    }
  }
  return { records, reason: "oversize", detail: "the terminator" };
}

/** Writes a failing payload to a file and describes how to replay it. */
function reproducer(h: Hostile, index: number, outcome: Outcome): string {
  const file = path.join(tempDir("log_server-hostile-"), `payload-${index}.bin`);
  writeFileSync(file, h.bytes);
  const hex = Buffer.from(h.bytes.subarray(0, 256)).toString("hex");
  return `seed ${SEED}, payload #${index} (${h.kind}): ${outcome.detail}\n  bytes on the wire (${h.bytes.length}) saved to ${file}; first 256 as hex: ${hex}`;
}

describe("hostile TCP input", () => {
  test("in process: every payload is refused with a decode reason, never an unexpected exception", () => {
    const rng = new Rng(SEED ^ 0x5eed);
    const seen = new Map<string, number>();
    const internal: string[] = [];
    for (let i = 0; i < IN_PROCESS_PAYLOADS; i++) {
      const h = hostile(rng, i, false);
      const outcome = decodeLikeTheServer(h);
      seen.set(outcome.reason, (seen.get(outcome.reason) ?? 0) + 1);
      if (outcome.reason === "internal" && internal.length < 5) internal.push(reproducer(h, i, outcome));
    }
    expect(internal).toEqual([]);
    // The generators reach every rejection reason.
    expect([...seen.keys()].sort()).toEqual([
      "far-pointer", "not-text", "not-word-aligned", "oversize", "pointer-out-of-bounds", "segment-table",
      "text-not-terminated", "too-large", "traversal-limit", "truncated-packed", "wrong-root-type",
    ]);
  });

  let server: ServerProcess | null = null;
  afterAll(async () => {
    await server?.stop();
  });

  test("the real server: hostile connections closed one by one, a good client's records intact, exit 0", async () => {
    const metricsPort = freePort();
    server = await startServer({ args: ["--metrics_port", String(metricsPort), "--max_file_bytes", String(1024 ** 3)] });
    const port = server.tcpPort;
    const started = performance.now();

    // The payloads, decided up front (seeded) and checked in process first.
    const rng = new Rng(SEED);
    const payloads: Hostile[] = [];
    let bigLeft = BIG_PAYLOADS;
    for (let i = 0; i < HOSTILE_CONNECTIONS; i++) {
      const h = hostile(rng, i, bigLeft > 0);
      if (h.kind === "big") bigLeft--;
      payloads.push(h);
    }
    const outcomes = payloads.map(decodeLikeTheServer);
    const internal = outcomes.flatMap((o, i) => (o.reason === "internal" ? [reproducer(payloads[i], i, o)] : []));
    expect(internal.slice(0, 5)).toEqual([]);
    const expectedHostileRecords = outcomes.reduce((n, o) => n + o.records, 0);

    // The well-behaved client: numbered records over one connection for as long as the attack lasts.
    let attackOver = false;
    let goodSent = 0;
    const good = await connectTcp(port);
    const goodClient = (async () => {
      const frameOf = (n: number) =>
        logFrame({ timestamp: "2026-05-18T10:00:00.123456789Z", hostname: "good-host", loggerName: "good", level: 3, message: `conn=0 n=${n}` });
      for (let round = 0; round < 20_000 && (!attackOver || goodSent < 500); round++) {
        const batch: Uint8Array[] = [];
        for (let k = 0; k < 5; k++) batch.push(frameOf(goodSent++));
        await writeAll(good, concatAll(batch));
        await Bun.sleep(1);
      }
      good.end();
    })();

    // Hostile clients: each takes the next payload, connects, sends it (whole, in pieces, or byte by
    // byte at first) and waits for the server to close the connection.
    let next = 0;
    const closedByServer: number[] = [];
    const attacker = async (client: number) => {
      const split = new Rng(SEED + 1 + client);
      while (next < payloads.length) {
        const index = next++;
        await sendHostile(port, payloads[index], split, index);
        closedByServer.push(index);
      }
    };
    await Promise.all(Array.from({ length: HOSTILE_CLIENTS }, (_, c) => attacker(c)));
    attackOver = true;
    await goodClient;
    expect(closedByServer).toHaveLength(HOSTILE_CONNECTIONS);

    // Everything received is written; every connection is gone.
    const page = await scrapeUntil(
      metricsPort,
      (v) => {
        const received = v('log_server_received_records_total{protocol="tcp"}') ?? -1;
        return received >= goodSent && v("log_server_last_written_sequence") === received - 1 && v("log_server_tcp_open_connections") === 0;
      },
      "every record written and every connection closed",
      20_000,
    );
    const received = page.value('log_server_received_records_total{protocol="tcp"}')!;
    const closedByReason = [...page.families.get("log_server_tcp_closed_connections_total")!.samples].filter(([, n]) => n > 0);
    const closedTotal = closedByReason.reduce((n, [, count]) => n + count, 0);
    expect(page.value('log_server_tcp_closed_connections_total{reason="internal"}')).toBe(0);
    expect(closedTotal).toBe(HOSTILE_CONNECTIONS);

    // The file: the whole sequence column gapless from 0; the good client's records in order, once each.
    const lines = server.logLines();
    expect(lines).toHaveLength(received);
    const badSequence = lines.findIndex((l, i) => Number(l.slice(0, l.indexOf(" "))) !== i);
    expect(badSequence).toBe(-1);
    const goodNumbers = lines.flatMap((l) => {
      const match = /conn=0 n=(\d+)/.exec(l);
      return match ? [Number(match[1])] : [];
    });
    expect(goodNumbers).toHaveLength(goodSent);
    expect(goodNumbers.every((n, i) => n === i)).toBe(true);
    // Hostile frames that were valid LoggerMsgs were written once each, exactly as the decoders predicted.
    const hostileRecords = received - goodSent;
    expect(hostileRecords).toBe(expectedHostileRecords);

    expect(await server.stop()).toBe(0);
    expect(server.stdout).toContain("stopped; last written sequence is");

    // Operator messages: one "closing connection" line per hostile connection, naming a decode reason
    // (the same counts as /metrics), and nothing else: no "internal" reason, no stack trace.
    const stderr = server.stderr.split("\n").filter((l) => l !== "");
    const closing = stderr.filter((l) => l.includes("closing connection"));
    const other = stderr.filter((l) => !l.includes("closing connection"));
    expect(other.slice(0, 10)).toEqual([]);
    expect(closing).toHaveLength(HOSTILE_CONNECTIONS);
    expect(closing.filter((l) => l.includes("(internal)")).slice(0, 5)).toEqual([]);
    const logged = new Map<string, number>();
    for (const l of closing) {
      const reason = /: frame #\d+ rejected \(([^)]+)\): /.exec(l)?.[1] ?? `unparsed: ${l}`;
      logged.set(reason, (logged.get(reason) ?? 0) + 1);
    }
    expect(Object.fromEntries([...logged].sort())).toEqual(
      Object.fromEntries(closedByReason.map(([key, n]) => [/reason="([^"]+)"/.exec(key)?.[1] ?? key, n]).sort()),
    );
    expect(server.stderr).not.toMatch(/^\s+at /m);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `hostile input: ${HOSTILE_CONNECTIONS} hostile connections (${BIG_PAYLOADS - bigLeft} big) and ${goodSent} good records in ${seconds} s; ` +
        `${hostileRecords} hostile frames were valid records (in-process decoders predicted ${expectedHostileRecords}); closed by reason: ` +
        closedByReason.map(([key, n]) => `${/reason="([^"]+)"/.exec(key)?.[1]}=${n}`).join(" "),
    );
  });
});

/** Sends one hostile payload on a new connection and waits (bounded) for the server to close it. */
async function sendHostile(port: number, h: Hostile, rng: Rng, index: number): Promise<void> {
  const socket = await connectTcp(port);
  // The server may close the connection at any point of the payload: the rest is simply not sent.
  const write = (bytes: Uint8Array) => writeAll(socket, bytes).catch(() => {});
  const bytes = h.bytes;
  const style = rng.int(10);
  if (style < 5 || bytes.length < 2) {
    await write(bytes);
  } else if (style < 8) {
    // Split at 1–4 random points, with a pause between pieces so they arrive as separate reads.
    const cuts = Array.from({ length: 1 + rng.int(4) }, () => 1 + rng.int(bytes.length - 1)).sort((a, b) => a - b);
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      await write(bytes.subarray(from, cut));
      from = cut;
      await Bun.sleep(rng.int(3));
    }
  } else {
    // The first bytes one at a time (the length prefix straddles reads), then the rest.
    const head = Math.min(bytes.length, 1 + rng.int(12));
    for (let i = 0; i < head && !socket.isClosed(); i++) {
      await write(bytes.subarray(i, i + 1));
      await Bun.sleep(1);
    }
    await write(bytes.subarray(head));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), 15_000)));
  const outcome = await Promise.race([socket.closed, timeout]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    socket.terminate();
    throw new Error(`the server did not close hostile connection #${index} (${h.kind}, ${bytes.length} bytes) within 15 s`);
  }
}
