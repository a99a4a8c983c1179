// Micro-benchmark of the TCP hot path on the main thread: FrameParser → decodeLoggerFrame → formatLine.
// 512 distinct realistic frames (built by capnp-es like a real client, ~260 bytes each) are
// concatenated into one stream and fed to the real FrameParser in 64 KiB chunks. Three stages run
// interleaved in every round (parse only; parse + decode; parse + decode + format) and the minimum
// over the rounds is reported, which is what survives noise from other processes on a shared box.
// Usage:
//   bun run scripts/bench-format.ts [--records 50000] [--rounds 40]
// Many short rounds: on a shared machine the minimum of short runs is the most repeatable number.
import { parseArgs } from "node:util";
import { decodeLoggerFrame } from "../src/decode/logger-msg.ts";
import { ByteBuffer } from "../src/format/byte-buffer.ts";
import { formatLine } from "../src/format/line-format.ts";
import { FIELD_COUNT, LogFields } from "../src/record/log-fields.ts";
import { type FrameHandler, FrameParser } from "../src/tcp/frame-parser.ts";
import { concat, logFrame, type RecordText } from "../tests/support/frames.ts";

const { values } = parseArgs({
  options: { records: { type: "string", default: "50000" }, rounds: { type: "string", default: "40" } },
});
const RECORDS = Number(values.records);
const ROUNDS = Number(values.rounds);
const CHUNK_BYTES = 64 * 1024;
const DISTINCT = 512;

/** A typical application record; one in 32 messages carries something to escape (a newline or a backslash). */
function benchRecord(i: number): RecordText {
  const words = "order payment cache request latency user session retry upstream timeout queue worker".split(" ");
  let message = `request ${i}:`;
  while (message.length < 60 + (i % 40)) message += ` ${words[(i * 7 + message.length) % words.length]}`;
  if (i % 32 === 5) message += "\n  at handle_request (handlers.py:120)";
  if (i % 32 === 17) message += " path=C:\\data\\orders";
  return {
    timestamp: `2026-05-18T10:${String(i % 60).padStart(2, "0")}:${String((i * 7) % 60).padStart(2, "0")}.${String(123456 + i * 37).padStart(6, "0")}Z`,
    hostname: `web-${i % 16}.prod`,
    loggerName: i % 4 === 0 ? "app.http.access" : "app.http",
    module: "handlers",
    level: i % 12,
    filename: "handlers.py",
    functionName: i % 3 === 0 ? "handle_request" : "dispatch",
    lineNumber: String(100 + (i % 400)),
    message,
    processId: String(4000 + (i % 50)),
    threadName: "MainThread",
    serviceName: "orders",
  };
}

/** The frames as one byte stream, cut into the reads a socket would deliver (frames straddle reads). */
function makeChunks(): { chunks: Uint8Array[]; frameCount: number; avgFrameBytes: number } {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < DISTINCT; i++) frames.push(logFrame(benchRecord(i)));
  const stream = concat(frames);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += CHUNK_BYTES) chunks.push(stream.slice(at, at + CHUNK_BYTES));
  return { chunks, frameCount: frames.length, avgFrameBytes: stream.length / frames.length };
}

class ParseOnly implements FrameHandler {
  sink = 0;
  onFrame(_bytes: Uint8Array, start: number, end: number): void {
    this.sink += end - start;
  }
  onHeartbeat(): void {}
}

class ParseDecode implements FrameHandler {
  readonly fields = new LogFields();
  sink = 0;
  onFrame(bytes: Uint8Array, start: number, end: number): void {
    const f = this.fields;
    decodeLoggerFrame(bytes, start, end, f);
    // Touch what a formatter reads, so the decode cannot be skipped.
    this.sink += f.level + f.length[7] + f.bytes[f.start[0]];
  }
  onHeartbeat(): void {}
}

class ParseDecodeFormat implements FrameHandler {
  readonly fields = new LogFields();
  readonly out = new ByteBuffer(2 * 1024 * 1024);
  sequence = 0;
  sink = 0;
  onFrame(bytes: Uint8Array, start: number, end: number): void {
    decodeLoggerFrame(bytes, start, end, this.fields);
    const out = this.out;
    // The writer hands over its staging buffer in batches; model that by rewinding every ~1 MiB.
    if (out.pos > 1024 * 1024) {
      this.sink += out.pos;
      out.pos = 0;
    }
    formatLine(out, this.sequence++, this.fields);
  }
  onHeartbeat(): void {}
}

/** Feeds whole passes over the stream until at least `records` frames went through; returns ns per frame. */
function run(handler: FrameHandler, chunks: Uint8Array[], frameCount: number, records: number): number {
  const parser = new FrameParser(handler);
  const passes = Math.max(1, Math.round(records / frameCount));
  const t0 = Bun.nanoseconds();
  for (let p = 0; p < passes; p++) for (let c = 0; c < chunks.length; c++) parser.push(chunks[c]);
  const ns = Bun.nanoseconds() - t0;
  if (parser.frames !== passes * frameCount || parser.midFrame) throw new Error("stream did not parse into whole frames");
  return ns / (passes * frameCount);
}

const { chunks, frameCount, avgFrameBytes } = makeChunks();
const handlers = { parse: new ParseOnly(), decode: new ParseDecode(), format: new ParseDecodeFormat() };

// Sanity: the formatted lines of one pass look like log lines (catches a benchmark that formats nothing).
{
  const h = new ParseDecodeFormat();
  const parser = new FrameParser(h);
  for (const c of chunks) parser.push(c);
  const text = new TextDecoder().decode(h.out.bytes.subarray(0, h.out.pos));
  const lines = text.split("\n");
  if (lines.length !== frameCount + 1 || !lines[0].includes("request 0:")) throw new Error("unexpected formatter output");
  console.log(`frames: ${frameCount} distinct, ${avgFrameBytes.toFixed(0)} bytes on the wire on average (header included), ` +
    `${(h.out.pos / frameCount).toFixed(0)} bytes per line; ${FIELD_COUNT} fields; Bun ${Bun.version}`);
  console.log(`sample line: ${lines[1]}`);
}

const best = { parse: Infinity, decode: Infinity, format: Infinity };
for (let r = 0; r < ROUNDS + 1; r++) {
  // Round 0 is the JIT warm-up and is not counted.
  for (const stage of ["parse", "decode", "format"] as const) {
    const ns = run(handlers[stage], chunks, frameCount, r === 0 ? Math.min(RECORDS, 100_000) : RECORDS);
    if (r > 0) best[stage] = Math.min(best[stage], ns);
  }
}
const fmt = (ns: number) => ns.toFixed(1).padStart(7);
console.log(`min of ${ROUNDS} rounds, ~${RECORDS.toLocaleString("en-US")} records each:`);
console.log(`  parse                   ${fmt(best.parse)} ns/rec`);
console.log(`  parse+decode            ${fmt(best.decode)} ns/rec   (decode ≈ ${fmt(best.decode - best.parse)})`);
console.log(`  parse+decode+format     ${fmt(best.format)} ns/rec   (format ≈ ${fmt(best.format - best.decode)})`);
console.log(`  → ${Math.round(1e9 / best.format).toLocaleString("en-US")} records/s on one thread`);
console.log(`sink ${(handlers.parse.sink + handlers.decode.sink + handlers.format.sink) & 0xff}`);
