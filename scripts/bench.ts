// `bun run bench`: end-to-end TCP ingestion throughput of the real server.
// Starts the server on a temp log dir, sends RECORDS records (~250 bytes each) over 8 connections
// from a separate process, and reports records/s from the first byte sent to the last record on
// disk, input MB/s, and the server's peak RSS (VmHWM).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { lastSequenceIn } from "../src/writer/last-sequence.ts";

const records = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const maxFileBytes = process.env.BENCH_MAX_FILE_BYTES ?? String(64 * 1024 * 1024);
const root = path.resolve(import.meta.dir, "..");
const logDir = mkdtempSync(path.join(tmpdir(), "log_server-bench-"));

const server = Bun.spawn(
  [process.execPath, "run", path.join(root, "src/main.ts"), "--port", "0", "--tcp_only", "--log_dir", logDir, "--max_file_bytes", maxFileBytes, ...(process.env.BENCH_SERVER_ARGS?.split(" ").filter(Boolean) ?? [])],
  { stdout: "pipe", stderr: "inherit" },
);
let banner = "";
const stdout = server.stdout.getReader();
while (!banner.includes("all server components started")) {
  const { value, done } = await stdout.read();
  if (done) throw new Error(`server exited during start:\n${banner}`);
  banner += new TextDecoder().decode(value);
}
// Keep draining the server's stdout so its messages never block or fail.
void (async () => { while (!(await stdout.read()).done); })();
const port = Number(/TCP server listening on .*:(\d+)/.exec(banner)?.[1]);

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  if (process.env.BENCH_CPU_SPLIT) console.error(`utime ${Number(fields[11]) / 100} s, stime ${Number(fields[12]) / 100} s`);
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const serverCpuBefore = cpuSeconds(server.pid);
const client = Bun.spawn([process.execPath, path.join(root, "scripts/bench-client.ts"), String(port), String(records), String(connections)], {
  stdout: "pipe",
  stderr: "inherit",
});
const clientOutput = await new Response(client.stdout).text();
const { startedAt, finishedAt, bytes } = JSON.parse(clientOutput.trim().split("\n").pop() as string);
const liveFile = path.join(logDir, "_main.log");
while ((lastSequenceIn(liveFile) ?? -1) < records - 1) await Bun.sleep(2);
const doneAt = Date.now();
const serverCpu = cpuSeconds(server.pid) - serverCpuBefore;

const seconds = (doneAt - startedAt) / 1000;
console.log(`records:        ${records} over ${connections} connections (${(bytes / records).toFixed(0)} bytes each on the wire)`);
console.log(`client sending: ${((finishedAt - startedAt) / 1000).toFixed(3)} s`);
console.log(`first byte → last record on disk: ${seconds.toFixed(3)} s`);
console.log(`throughput:     ${Math.round(records / seconds).toLocaleString("en-US")} records/s, ${(bytes / seconds / 1e6).toFixed(1)} MB/s input`);
console.log(`server CPU:     ${serverCpu.toFixed(2)} s (${((serverCpu / records) * 1e6).toFixed(2)} µs per record, all threads)`);
console.log(`server peak RSS: ${peakRssMiB(server.pid).toFixed(1)} MiB`);

server.kill("SIGTERM");
await server.exited;
rmSync(logDir, { recursive: true, force: true });
