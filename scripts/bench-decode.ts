// Micro-benchmark: decode typical ~250-byte packed LoggerMsg frames with our hot-path reader and with
// capnp-es (string getters), in the same run. capnp-es is ~50x slower, so it decodes fewer frames by
// default. Usage:
//   bun run scripts/bench-decode.ts [--count 1000000] [--ref-count 200000]
import { Message } from "capnp-es";
import { parseArgs } from "node:util";
import { LoggerMsg } from "../src/capnp/logger.ts";
import { decodeLoggerFrame } from "../src/decode/logger-msg.ts";
import { Scratch, unpackInto } from "../src/decode/packed.ts";
import { FIELD_COUNT, LogFields } from "../src/record/log-fields.ts";

const { values } = parseArgs({
  options: { count: { type: "string", default: "1000000" }, "ref-count": { type: "string", default: "200000" } },
});
const COUNT = Number(values.count);
const REF_COUNT = Number(values["ref-count"]);

/** 1,024 distinct realistic frames, so the loop does not replay one buffer from L1 only. */
function makeFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const words = "order payment cache request latency user session retry upstream timeout queue worker".split(" ");
  for (let i = 0; i < 1024; i++) {
    const m = new Message();
    const r = m.initRoot(LoggerMsg);
    r.timestamp = `2026-05-18T10:${String(i % 60).padStart(2, "0")}:00.${String(123456 + i).padStart(6, "0")}Z`;
    r.hostname = `web-${i % 16}.prod`;
    r.loggerName = "app.http";
    r.module = "handlers";
    r.level = (i % 12) as never;
    r.filename = "handlers.py";
    r.functionName = "handle_request";
    r.lineNumber = String(100 + (i % 400));
    let msg = `request ${i}:`;
    while (msg.length < 120) msg += ` ${words[(i * 7 + msg.length) % words.length]}`;
    r.message = msg.slice(0, 120);
    r.processId = String(4000 + (i % 50));
    r.threadName = "MainThread";
    r.serviceName = "orders";
    frames.push(new Uint8Array(m.toPackedArrayBuffer()));
  }
  return frames;
}

const cpuNs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/**
 * Time `run(count)`, which decodes `count` frames in its own loop (one loop per reader keeps each call
 * site monomorphic). Wall time is the headline; CPU time is shown because this may be a shared machine.
 */
function bench(name: string, count: number, run: (count: number) => number): void {
  run(Math.min(count, 50_000)); // warm up the JIT
  const cpu0 = cpuNs();
  const t0 = Bun.nanoseconds();
  const sink = run(count);
  const ns = Bun.nanoseconds() - t0;
  const cpu = cpuNs() - cpu0;
  console.log(
    `${name.padEnd(38)} ${count.toLocaleString("en-US").padStart(9)} msgs ${(ns / 1e6).toFixed(0).padStart(6)} ms ` +
      `${Math.round((count / ns) * 1e9).toLocaleString("en-US").padStart(10)} msgs/s ${(ns / count).toFixed(0).padStart(6)} ns/msg ` +
      `(cpu ${(cpu / count).toFixed(0)} ns/msg; sink ${sink & 0xff})`,
  );
}

const frames = makeFrames();
const avg = frames.reduce((n, f) => n + f.length, 0) / frames.length;
console.log(`frames: ${frames.length} distinct, ${avg.toFixed(0)} bytes packed on average; Bun ${Bun.version}`);

const scratch = new Scratch();
bench("unpack only (ours)", COUNT, (count) => {
  let sink = 0;
  for (let i = 0; i < count; i++) {
    const f = frames[i & 1023];
    sink += unpackInto(f, 0, f.length, scratch);
  }
  return sink;
});

const out = new LogFields();
bench("decodeLoggerFrame (ours)", COUNT, (count) => {
  let sink = 0;
  for (let n = 0; n < count; n++) {
    const f = frames[n & 1023];
    decodeLoggerFrame(f, 0, f.length, out);
    // Touch every field like a formatter would (length + first byte).
    sink += out.level;
    for (let i = 0; i < FIELD_COUNT; i++) sink += out.length[i] + out.bytes[out.start[i]];
  }
  return sink;
});

bench("capnp-es getRoot + 15 string getters", REF_COUNT, (count) => {
  let sink = 0;
  for (let n = 0; n < count; n++) {
    const r = new Message(frames[n & 1023], true).getRoot(LoggerMsg);
    sink +=
      r.level + r.timestamp.length + r.hostname.length + r.loggerName.length + r.module.length + r.filename.length +
      r.functionName.length + r.lineNumber.length + r.message.length + r.pathName.length + r.processId.length +
      r.processName.length + r.threadId.length + r.threadName.length + r.serviceName.length + r.stackTrace.length;
  }
  return sink;
});
