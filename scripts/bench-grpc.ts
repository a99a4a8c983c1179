// `bun run scripts/bench-grpc.ts`: gRPC ingestion throughput of the real server, next to baselines
// measured in the same run on the same Bun (scripts/bench-grpc/noop-server.ts): a plain grpc-js
// server whose handlers do nothing, and the same with the log server's options and codecs (the
// framework floor). Numbers on a shared machine move with its load: each configuration runs
// BENCH_ROUNDS times, interleaved, and the best round is shown; the ratio to the baseline and the
// server CPU per record are the steadier figures.
//
//   unary    h2load, 8 connections × 100 concurrent LogMessage calls, one ~200-byte LogRequest each.
//            Every answer of the log server means "in the file"; the file is checked afterwards
//            (h2load sees only HTTP 200; a gRPC error would be a missing line).
//   stream   LogStream from a grpc-js client process (8 streams × 100k records, pre-encoded), and
//            from h2load (8 streams whose body is 100k framed LogRequests) to see the server
//            without the grpc-js client's own per-message cost.
//
// Environment: BENCH_UNARY_REQUESTS (200000), BENCH_STREAMS (8), BENCH_STREAM_RECORDS (100000),
// BENCH_ROUNDS (2), BENCH_COMPILED=1 to benchmark the compiled executable instead of `bun run src/main.ts`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import protobuf from "protobufjs";
import { compileLogServer } from "./compile.ts";

const UNARY_REQUESTS = Number(process.env.BENCH_UNARY_REQUESTS ?? 200_000);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 8);
const STREAM_RECORDS = Number(process.env.BENCH_STREAM_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = 8;
const CONCURRENT_CALLS = 100;
const WARM_UP_REQUESTS = 20_000;

const root = path.resolve(import.meta.dir, "..");
const work = mkdtempSync(path.join(os.tmpdir(), "log_server-bench-grpc-"));

// ---- request bodies -------------------------------------------------------------------------

const LogRequest = new protobuf.Root().loadSync(path.join(root, "proto/log_service.proto"), { keepCase: true }).lookupType("logservice.LogRequest");
const request = LogRequest.encode(
  LogRequest.fromObject({
    timestamp: "2026-05-18T10:00:00.123456789Z",
    hostname: "trade-gw-07",
    logger_name: "orders.router",
    module: "router",
    level: 3,
    filename: "router.py",
    function_name: "route_order",
    line_number: "218",
    message: "routed order 7f3a9c to venue XNAS: qty=300 px=187.25 side=BUY latency_us=142",
    process_id: "48211",
    thread_name: "MainThread",
    service_name: "orders",
  }),
).finish();

function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

const unaryBody = path.join(work, "unary.bin");
writeFileSync(unaryBody, grpcFrame(request));
const streamBody = path.join(work, "stream.bin");
{
  const one = grpcFrame(request);
  const all = new Uint8Array(one.length * STREAM_RECORDS);
  for (let i = 0; i < STREAM_RECORDS; i++) all.set(one, i * one.length);
  writeFileSync(streamBody, all);
}

// ---- processes --------------------------------------------------------------------------------

interface Server {
  proc: Subprocess<"ignore", "pipe", "inherit">;
  port: number;
  logFile: string | null;
}

/** Processes still running, stopped on the way out whatever happens. */
const running = new Set<Server["proc"]>();
process.on("exit", () => {
  for (const proc of running) proc.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

async function spawnAndWait(command: string[], ready: RegExp, portPattern: RegExp): Promise<{ proc: Server["proc"]; port: number }> {
  const proc = Bun.spawn(command, { cwd: work, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  const reader = proc.stdout.getReader();
  let text = "";
  while (!ready.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${command.join(" ")} exited during start:\n${text}`);
    text += new TextDecoder().decode(value);
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return { proc, port: Number(portPattern.exec(text)?.[1]) };
}

async function startLogServer(executable: string[]): Promise<Server> {
  const logDir = mkdtempSync(path.join(work, "logs-"));
  const args = ["--port", "0", "--grpc_port", "0", "--log_dir", logDir, "--max_file_bytes", String(1024 ** 3)];
  const { proc, port } = await spawnAndWait([...executable, ...args], /all server components started/, /gRPC server listening on .*:(\d+)/);
  return { proc, port, logFile: path.join(logDir, "_main.log") };
}

async function startNoopServer(tuned: boolean): Promise<Server> {
  const command = [process.execPath, path.join(import.meta.dir, "bench-grpc/noop-server.ts"), ...(tuned ? ["--tuned"] : [])];
  const { proc, port } = await spawnAndWait(command, /listening on \d+/, /listening on (\d+)/);
  return { proc, port, logFile: null };
}

async function stop(server: Server): Promise<void> {
  server.proc.kill("SIGTERM");
  await server.proc.exited;
}

/** User + system CPU seconds a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function lineCount(file: string | null): number {
  if (!file) return 0;
  const bytes = readFileSync(file);
  let lines = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++;
  return lines;
}

// ---- load generators --------------------------------------------------------------------------

interface Measured {
  records: number;
  seconds: number;
  serverCpuSeconds: number;
  note: string;
}

async function h2load(server: Server, method: "LogMessage" | "LogStream", requests: number, connections: number, concurrent: number, body: string): Promise<{ seconds: number; ok: number; text: string }> {
  const url = `http://127.0.0.1:${server.port}/logservice.LogService/${method}`;
  const proc = Bun.spawn(
    ["h2load", "-c", String(connections), "-m", String(concurrent), "-n", String(requests), "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", body, url],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [text, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`h2load failed (${code}):\n${text}${err}`);
  const seconds = Number(/finished in ([\d.]+)(m?s)/.exec(text)?.[1]) / (/finished in [\d.]+ms/.test(text) ? 1000 : 1);
  const ok = Number(/status codes: (\d+) 2xx/.exec(text)?.[1] ?? 0);
  return { seconds, ok, text };
}

async function unary(server: Server): Promise<Measured> {
  await h2load(server, "LogMessage", WARM_UP_REQUESTS, CONNECTIONS, CONCURRENT_CALLS, unaryBody);
  const linesBefore = lineCount(server.logFile);
  const cpuBefore = cpuSeconds(server.proc.pid);
  const run = await h2load(server, "LogMessage", UNARY_REQUESTS, CONNECTIONS, CONCURRENT_CALLS, unaryBody);
  const serverCpuSeconds = cpuSeconds(server.proc.pid) - cpuBefore;
  if (run.ok !== UNARY_REQUESTS) throw new Error(`h2load: only ${run.ok} of ${UNARY_REQUESTS} answered 2xx:\n${run.text}`);
  let note = `${run.ok} × HTTP 2xx`;
  if (server.logFile) {
    // Answers mean "written": every line must be there already, no waiting.
    const written = lineCount(server.logFile) - linesBefore;
    if (written !== UNARY_REQUESTS) throw new Error(`${UNARY_REQUESTS} calls answered but ${written} lines written`);
    note += `, all ${written} lines in the file when the last answer arrived`;
  }
  return { records: UNARY_REQUESTS, seconds: run.seconds, serverCpuSeconds, note };
}

async function streamH2load(server: Server): Promise<Measured> {
  const linesBefore = lineCount(server.logFile);
  const cpuBefore = cpuSeconds(server.proc.pid);
  const run = await h2load(server, "LogStream", STREAMS, STREAMS, 1, streamBody);
  const serverCpuSeconds = cpuSeconds(server.proc.pid) - cpuBefore;
  const records = STREAMS * STREAM_RECORDS;
  let note = `${run.ok} streams × HTTP 2xx`;
  if (server.logFile) {
    const written = lineCount(server.logFile) - linesBefore;
    if (written !== records) throw new Error(`${records} streamed records answered but ${written} lines written`);
    note += `, all ${written} lines in the file`;
  }
  return { records, seconds: run.seconds, serverCpuSeconds, note };
}

async function streamGrpcJs(server: Server): Promise<Measured> {
  const linesBefore = lineCount(server.logFile);
  const cpuBefore = cpuSeconds(server.proc.pid);
  const client = Bun.spawn(
    [process.execPath, path.join(import.meta.dir, "bench-grpc/stream-client.ts"), String(server.port), String(STREAMS), String(STREAM_RECORDS), unaryBody],
    { stdout: "pipe", stderr: "inherit" },
  );
  const output = await new Response(client.stdout).text();
  if ((await client.exited) !== 0) throw new Error(`stream client failed:\n${output}`);
  const serverCpuSeconds = cpuSeconds(server.proc.pid) - cpuBefore;
  const result = JSON.parse(output.trim().split("\n").pop()!) as { records: number; seconds: number; summaries: Array<{ accepted: number }> };
  const accepted = result.summaries.reduce((sum, s) => sum + s.accepted, 0);
  let note = `summaries count ${accepted}`;
  if (server.logFile) {
    const written = lineCount(server.logFile) - linesBefore;
    if (written !== result.records || accepted !== result.records) throw new Error(`${result.records} streamed, ${accepted} in summaries, ${written} lines written`);
    note += `, all ${written} lines in the file`;
  }
  return { records: result.records, seconds: result.seconds, serverCpuSeconds, note };
}

// ---- run ----------------------------------------------------------------------------------------

const compiled = process.env.BENCH_COMPILED === "1";
const logServerCommand = compiled
  ? [await compileLogServer({ outfile: path.join(work, "log_server") })]
  : [process.execPath, "run", path.join(root, "src/main.ts")];

type Scenario = "unary" | "grpcJsStream" | "h2Stream";
const CONFIGURATIONS = [
  { name: "baseline: no-op grpc-js server", start: () => startNoopServer(false) },
  { name: "floor: no-op, log server options+codecs", start: () => startNoopServer(true) },
  { name: "log server", start: () => startLogServer(logServerCommand) },
] as const;

/** best[configuration][scenario]: the round with the highest rate. */
const best = CONFIGURATIONS.map(() => ({}) as Partial<Record<Scenario, Measured>>);
const rate = (m: Measured) => m.records / m.seconds;

console.log(`gRPC benchmark — Bun ${Bun.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`log server: ${compiled ? "compiled executable" : "bun run src/main.ts"}; request ${request.length} bytes of protobuf; best of ${ROUNDS} rounds\n`);

for (let round = 0; round < ROUNDS; round++) {
  for (const [i, configuration] of CONFIGURATIONS.entries()) {
    const server = await configuration.start();
    const results: Record<Scenario, Measured> = {
      unary: await unary(server),
      grpcJsStream: await streamGrpcJs(server),
      h2Stream: await streamH2load(server),
    };
    await stop(server);
    for (const scenario of Object.keys(results) as Scenario[]) {
      const previous = best[i][scenario];
      if (!previous || rate(results[scenario]) > rate(previous)) best[i][scenario] = results[scenario];
    }
  }
}

function row(label: string, m: Measured, baseline?: Measured): string {
  const cpuUs = (m.serverCpuSeconds / m.records) * 1e6;
  const ratio = baseline && baseline !== m ? `  ${(rate(m) / rate(baseline)).toFixed(2)}× baseline` : "";
  return `  ${label.padEnd(42)} ${Math.round(rate(m)).toLocaleString("en-US").padStart(9)} /s  ${cpuUs.toFixed(1).padStart(6)} µs server CPU each${ratio}\n      ${m.note}`;
}

const TITLES: Record<Scenario, string> = {
  unary: `unary LogMessage: h2load -c ${CONNECTIONS} -m ${CONCURRENT_CALLS} -n ${UNARY_REQUESTS}`,
  grpcJsStream: `LogStream: ${STREAMS} streams × ${STREAM_RECORDS} records from a grpc-js client process`,
  h2Stream: `LogStream: ${STREAMS} streams × ${STREAM_RECORDS} records from h2load`,
};
for (const scenario of Object.keys(TITLES) as Scenario[]) {
  console.log(TITLES[scenario]);
  for (const [i, configuration] of CONFIGURATIONS.entries()) console.log(row(configuration.name, best[i][scenario]!, best[0][scenario]));
  console.log();
}
console.log(`load average now ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
