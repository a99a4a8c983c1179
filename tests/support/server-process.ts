// Runs the real server as a child process (bun run src/main.ts, or the compiled binary) on ports
// chosen by the OS, and reads the bound ports from its startup messages.
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import { allLines } from "./writer-harness.ts";

export const REPO = path.resolve(import.meta.dir, "../..");
export const MAIN = path.join(REPO, "src/main.ts");

export function tempDir(prefix = "log_server-test-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface StartOptions {
  logDir?: string;
  args?: string[];
  /** Run this executable instead of `bun run src/main.ts`. */
  executable?: string;
  cwd?: string;
  tcpOnly?: boolean;
}

export class ServerProcess {
  stdout = "";
  stderr = "";
  tcpPort = 0;
  grpcPort = 0;
  metricsPort = 0;
  readonly exited: Promise<number>;

  constructor(
    readonly proc: Subprocess<"ignore", "pipe", "pipe">,
    readonly logDir: string,
  ) {
    this.exited = proc.exited;
    void this.#collect(proc.stdout, (text) => (this.stdout += text));
    void this.#collect(proc.stderr, (text) => (this.stderr += text));
  }

  async #collect(stream: ReadableStream<Uint8Array>, sink: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) sink(decoder.decode(chunk, { stream: true }));
  }

  get logFile(): string {
    return path.join(this.logDir, "_main.log");
  }

  readLog(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, "utf8") : "";
  }

  /** Every line written, across rotated backups (oldest first) and the live file. */
  logLines(): string[] {
    return existsSync(this.logFile) ? allLines(this.logDir) : [];
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate()) {
      if (performance.now() > deadline) {
        throw new Error(`timed out waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await Bun.sleep(20);
    }
  }

  async waitForLines(count: number, timeoutMs = 20_000): Promise<string[]> {
    let lines: string[] = [];
    await this.waitFor(() => (lines = this.logLines()).length >= count, `${count} lines in ${this.logFile}`, timeoutMs);
    return lines;
  }

  kill(signal: NodeJS.Signals | number = "SIGTERM"): void {
    this.proc.kill(signal);
  }

  async stop(): Promise<number> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGTERM");
    return this.exited;
  }
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const logDir = options.logDir ?? tempDir();
  const command = options.executable ? [options.executable] : [process.execPath, "run", MAIN];
  const args = ["--port", "0", "--grpc_port", "0", "--log_dir", logDir];
  if (options.tcpOnly ?? true) args.push("--tcp_only");
  // The metrics port defaults to a fixed 9022; tests that want it pass their own --metrics_port.
  if (!options.args?.includes("--metrics_port")) args.push("--metrics_port", "0");
  const proc = Bun.spawn([...command, ...args, ...(options.args ?? [])], {
    cwd: options.cwd ?? REPO,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const server = new ServerProcess(proc, logDir);
  await Promise.race([
    server.waitFor(() => /all server components started/.test(server.stdout), "server start"),
    server.exited.then((code) => {
      throw new Error(`server exited with ${code} during start\nstdout:\n${server.stdout}\nstderr:\n${server.stderr}`);
    }),
  ]);
  server.tcpPort = Number(/TCP server listening on .*:(\d+)/.exec(server.stdout)?.[1] ?? 0);
  server.grpcPort = Number(/gRPC server listening on .*:(\d+)/.exec(server.stdout)?.[1] ?? 0);
  server.metricsPort = Number(/metrics .*listening on .*:(\d+)/.exec(server.stdout)?.[1] ?? 0);
  return server;
}

/** Sends bytes over one TCP connection and closes it once they are flushed. */
export async function sendTcp(port: number, ...chunks: Uint8Array[]): Promise<void> {
  const socket = await connectTcp(port);
  for (const chunk of chunks) await writeAll(socket, chunk);
  socket.end();
}

type ClientSocket = Awaited<ReturnType<typeof connectTcp>>;

export function connectTcp(port: number) {
  let onDrain: (() => void) | null = null;
  let onClosed!: () => void;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const state = { closed: false };
  return Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data() {},
      drain() {
        onDrain?.();
      },
      close() {
        state.closed = true;
        onClosed();
        onDrain?.();
      },
      error() {},
    },
  }).then((socket) =>
    Object.assign(socket, {
      waitDrain: () => new Promise<void>((resolve) => (onDrain = resolve)),
      isClosed: () => state.closed,
      /** Resolves when either side has closed the connection. */
      closed,
    }),
  );
}

/** socket.write may take only part of the data; wait for drain and write the rest. Throws if the server closed it. */
export async function writeAll(socket: ClientSocket, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    if (socket.isClosed()) throw new Error(`the server closed the connection after ${offset} of ${bytes.length} bytes`);
    const written = socket.write(bytes.subarray(offset));
    if (written > 0) offset += written;
    if (offset < bytes.length) await socket.waitDrain();
  }
}

/** Starts `command`, reads its stdout until the server says it started, stops it with SIGTERM; returns stdout and exit code. */
export async function startAndStop(command: string[], cwd = REPO): Promise<{ stdout: string; exitCode: number }> {
  const proc = Bun.spawn(command, { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const reader = proc.stdout.getReader();
  let stdout = "";
  while (!stdout.includes("all server components started")) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += new TextDecoder().decode(value);
  }
  proc.kill("SIGTERM");
  return { stdout, exitCode: await proc.exited };
}
