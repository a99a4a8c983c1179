// Shared by the release tests: runs scripts/release.ts (once per target set per test process),
// reads SHA256SUMS, and starts an installed log_server to prove it works.
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Message } from "capnp-es";
import { LoggerMsg } from "../../src/capnp/logger.ts";
import pkg from "../../package.json" with { type: "json" };

export const REPO = path.resolve(import.meta.dir, "../..");
export const VERSION: string = pkg.version;
export const ALL_TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"] as const;

/** This machine as a release target name, or null when we do not release for it. */
export const HOST_TARGET: string | null = (() => {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const name = `${os}-${process.arch}`;
  return (ALL_TARGETS as readonly string[]).includes(name) ? name : null;
})();

const tempDirs: string[] = [];
export function tempDir(prefix = "log_server-release-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
process.on("exit", () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export interface ReleaseRun {
  outDir: string;
  stdout: string;
  seconds: number;
}

export async function runRelease(targets: readonly string[], outDir = tempDir()): Promise<ReleaseRun> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, "scripts/release.ts", "--targets", targets.join(","), "--out", outDir], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`release.ts --targets ${targets.join(",")} exited ${code}\n${stdout}\n${stderr}`);
  return { outDir, stdout, seconds: (performance.now() - started) / 1000 };
}

/** One release build per target set for the whole `bun test` process (the files share it). */
export function sharedRelease(targets: readonly string[]): Promise<ReleaseRun> {
  const cache = ((globalThis as Record<string, unknown>).__logServerReleaseRuns ??= new Map()) as Map<string, Promise<ReleaseRun>>;
  const key = targets.join(",");
  let run = cache.get(key);
  if (!run) {
    run = runRelease(targets);
    cache.set(key, run);
  }
  return run;
}

export function archiveFile(target: string, version = VERSION): string {
  return `log_server-${version}-${target}.${target.startsWith("windows-") ? "zip" : "tar.gz"}`;
}

/** SHA256SUMS as name → hex, checking the `<hex>  <name>` format of every line. */
export function readSums(dir: string): Map<string, string> {
  const text = readFileSync(path.join(dir, "SHA256SUMS"), "utf8");
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const match = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (!match) throw new Error(`bad SHA256SUMS line: ${JSON.stringify(line)}`);
    sums.set(match[2], match[1]);
  }
  return sums;
}

export function sha256File(file: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
}

export async function run(cmd: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  const proc = Bun.spawn(cmd, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

/** A TCP frame as clients send it: 4-byte big-endian length, then a packed LoggerMsg. */
export function logFrame(text: string): Uint8Array {
  const message = new Message();
  const root = message.initRoot(LoggerMsg);
  root.message = text;
  root.hostname = "release-test";
  root.loggerName = "install";
  const packed = new Uint8Array(message.toPackedArrayBuffer());
  const frame = new Uint8Array(4 + packed.length);
  new DataView(frame.buffer).setUint32(0, packed.length, false);
  frame.set(packed, 4);
  return frame;
}

/**
 * Starts `binary` on free ports, sends one record over TCP, waits until _main.log has it, then
 * stops the process with SIGTERM (by its PID) and returns the log line and the exit code.
 */
export async function proveServerWorks(binary: string, logDir: string, text: string): Promise<{ line: string; exitCode: number; stdout: string }> {
  const proc = Bun.spawn([binary, "--port", "0", "--grpc_port", "0", "--tcp_only", "--metrics_port", "0", "--log_dir", logDir], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  let stdout = "";
  let stderr = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>, sink: (s: string) => void) => {
    for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
  };
  void collect(proc.stdout, (s) => (stdout += s));
  void collect(proc.stderr, (s) => (stderr += s));
  const deadline = (ms: number) => performance.now() + ms;
  const fail = (what: string) => new Error(`${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  try {
    let port = 0;
    for (const until = deadline(20_000); port === 0; await Bun.sleep(20)) {
      const match = /TCP server listening on 127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) port = Number(match[1]);
      else if (proc.exitCode !== null) throw fail(`log_server exited ${proc.exitCode} before listening`);
      else if (performance.now() > until) throw fail("log_server did not print its TCP port");
    }
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.write(logFrame(text));
    socket.flush();
    const logFile = path.join(logDir, "_main.log");
    let line: string | undefined;
    for (const until = deadline(15_000); line === undefined; await Bun.sleep(25)) {
      const content = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
      line = content.split("\n").find((l) => l.includes(text));
      if (line === undefined && performance.now() > until) throw fail(`no line containing "${text}" in ${logFile}:\n${content}`);
    }
    socket.end();
    process.kill(proc.pid, "SIGTERM");
    const exitCode = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => -1)]);
    return { line, exitCode, stdout };
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, "SIGKILL");
  }
}
