// `bun run bench`: end-to-end TCP ingestion throughput of the real server, against a baseline
// measured in the same run (the machines are noisy, so the ratio is the figure to compare).
//
// 1. Baseline: a Bun.listen server that only splits frames (scripts/bench-baseline-server.ts).
// 2. log_server (`bun run src/main.ts --tcp_only`) on a temp log dir.
// Each gets RECORDS records (~260 bytes on the wire) over CONNECTIONS connections from a separate
// client process (scripts/bench-client.ts). Reported: records/s from the first byte sent to the last
// record framed (baseline) or on disk (log_server), input MB/s, the server's CPU time per record,
// and its peak RSS (VmHWM).
//
// Both servers first get BENCH_WARMUP records (200000), not measured: a long-running server has its
// hot path compiled by the JIT, a cold one spends the first few hundred thousand records getting there.
//
// Environment: BENCH_RECORDS (1000000), BENCH_WARMUP (200000), BENCH_CONNECTIONS (8), BENCH_MAX_FILE_BYTES (64 MiB),
// BENCH_LOG_PARENT (where the temp log dir goes; default the OS temp dir),
// BENCH_SERVER_ARGS (extra log_server flags, e.g. "--decode_threads 1").
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import { lastSequenceIn } from "../src/writer/last-sequence.ts";

const records = Number(process.env.BENCH_RECORDS ?? 1_000_000);
/** Records sent (and written) before the measured run, so the JIT has compiled the hot path, as in a running server. */
const warmup = Number(process.env.BENCH_WARMUP ?? 200_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const maxFileBytes = process.env.BENCH_MAX_FILE_BYTES ?? String(64 * 1024 * 1024);
const extraArgs = process.env.BENCH_SERVER_ARGS?.split(" ").filter(Boolean) ?? [];
const root = path.resolve(import.meta.dir, "..");

type Piped = Subprocess<"ignore", "pipe", "inherit">;

/** Reads a process's stdout until `pattern` matches, then keeps draining it in the background. */
async function waitForOutput(proc: Piped, pattern: RegExp): Promise<RegExpExecArray> {
  const reader = proc.stdout.getReader();
  let text = "";
  for (;;) {
    const match = pattern.exec(text);
    if (match) {
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return match;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`process exited before printing ${pattern}:\n${text}`);
    text += new TextDecoder().decode(value);
  }
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (USER_HZ = 100). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
}

async function runClient(port: number, count = records): Promise<{ startedAt: number; bytes: number }> {
  const client = Bun.spawn([process.execPath, path.join(root, "scripts/bench-client.ts"), String(port), String(count), String(connections)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const output = await new Response(client.stdout).text();
  return JSON.parse(output.trim().split("\n").pop() as string);
}

interface Result {
  seconds: number;
  bytes: number;
  cpuSeconds: number;
  rssMiB: number;
}

async function baseline(): Promise<{ seconds: number; bytes: number }> {
  const server = Bun.spawn([process.execPath, path.join(root, "scripts/bench-baseline-server.ts"), String(records), String(warmup)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = server.stdout.getReader();
  let text = "";
  while (!/listening on (\d+)/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  const port = Number(/listening on (\d+)/.exec(text)?.[1]);
  if (warmup > 0) await runClient(port, warmup);
  const { startedAt, bytes } = await runClient(port);
  while (!/lastFrameAt/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const { lastFrameAt } = JSON.parse(text.slice(text.indexOf("{")));
  await server.exited;
  return { seconds: (lastFrameAt - startedAt) / 1000, bytes };
}

async function logServer(): Promise<Result> {
  const logDir = mkdtempSync(path.join(process.env.BENCH_LOG_PARENT ?? tmpdir(), "log_server-bench-"));
  const args = ["--port", "0", "--tcp_only", "--metrics_port", "0", "--log_dir", logDir, "--max_file_bytes", maxFileBytes, ...extraArgs];
  const server = Bun.spawn([process.execPath, "run", path.join(root, "src/main.ts"), ...args], { stdout: "pipe", stderr: "inherit" }) as Piped;
  const port = Number((await waitForOutput(server, /TCP server listening on .*:(\d+)/))[1]);
  const liveFile = path.join(logDir, "_main.log");
  if (warmup > 0) {
    await runClient(port, warmup);
    while ((lastSequenceIn(liveFile) ?? -1) < warmup - 1) await Bun.sleep(2);
  }
  const cpuBefore = cpuSeconds(server.pid);
  const { startedAt, bytes } = await runClient(port);
  while ((lastSequenceIn(liveFile) ?? -1) < warmup + records - 1) await Bun.sleep(2);
  const result = { seconds: (Date.now() - startedAt) / 1000, bytes, cpuSeconds: cpuSeconds(server.pid) - cpuBefore, rssMiB: peakRssMiB(server.pid) };
  server.kill("SIGTERM");
  await server.exited;
  rmSync(logDir, { recursive: true, force: true });
  return result;
}

const rate = (r: { seconds: number }) => records / r.seconds;
const base = await baseline();
const ours = await logServer();
console.log(`records: ${records.toLocaleString("en-US")} over ${connections} connections (${(ours.bytes / records).toFixed(0)} bytes each on the wire)`);
console.log(`baseline (Bun.listen + frame split only): ${Math.round(rate(base)).toLocaleString("en-US")} records/s, ${(base.bytes / base.seconds / 1e6).toFixed(1)} MB/s`);
console.log(
  `log_server (first byte sent → last record on disk): ${Math.round(rate(ours)).toLocaleString("en-US")} records/s, ` +
    `${(ours.bytes / ours.seconds / 1e6).toFixed(1)} MB/s = ${((100 * rate(ours)) / rate(base)).toFixed(0)} % of the baseline`,
);
console.log(`log_server CPU: ${((ours.cpuSeconds / records) * 1e6).toFixed(2)} µs per record (all threads); peak RSS ${ours.rssMiB.toFixed(1)} MiB`);
