// Command line → validated ServerConfig. Flags keep the seed's snake_case spellings
// (--grpc_port); citty also accepts the kebab-case ones (--grpc-port).
import { accessSync, constants, mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { defineCommand } from "citty";
import { isCompiledExecutable } from "./compiled.ts";
import type { FsyncPolicy, ServerConfig } from "./config.ts";
import { VERSION } from "./version.ts";

/** Raised for a bad flag value; main prints the message as one sentence and exits 2 before binding anything. */
export class UsageError extends Error {}

/** At least 2 (measured on 2 cores: 2 threads beat 1 by ~30 % although the main thread shares them), at most 4. */
function defaultDecodeThreads(): number {
  return Math.max(2, Math.min(4, availableParallelism() - 1));
}

export const cliArgs = {
  name: { type: "string", default: "LogServer", description: "Server instance name; prefixes every operational message." },
  host: { type: "string", default: "127.0.0.1", description: "Address the TCP and gRPC servers bind to." },
  port: { type: "string", default: "9020", description: "TCP (Cap'n Proto) port; 0 picks a free one." },
  grpc_port: { type: "string", default: "9021", description: "gRPC port; 0 picks a free one." },
  tcp_only: { type: "boolean", default: false, description: "Run the TCP server only; start no gRPC server." },
  metrics_port: {
    type: "string",
    default: "9022",
    description: "HTTP port of /metrics (Prometheus), /healthz and /readyz on --host; 0 starts no metrics server.",
  },
  log_dir: {
    type: "string",
    description: "Directory of _main.log and its backups (default: logs/ beside the executable; ./logs under `bun run`).",
  },
  max_file_bytes: { type: "string", default: "1048576", description: "Rotate _main.log when the next record would make it larger than this." },
  backup_count: { type: "string", default: "10", description: "Rotated files kept: _main.log.0 (newest) … _main.log.<n-1>." },
  gap_timeout_ms: {
    type: "string",
    default: "5000",
    description: "How long to wait for a missing sequence number before writing a gap marker line.",
  },
  max_pending_bytes: {
    type: "string",
    default: String(32 * 1024 * 1024),
    description: "Bound on records received but not yet written; at it TCP reads pause and gRPC calls get RESOURCE_EXHAUSTED.",
  },
  first_frame_timeout: {
    type: "string",
    default: "5",
    description: "Seconds a new TCP connection has to send its first complete frame (a heartbeat counts) before it is closed.",
  },
  idle_timeout: { type: "string", default: "60", description: "Seconds of silence (heartbeats count as activity) after which a TCP connection is closed." },
  max_connections: { type: "string", default: "4096", description: "Concurrent TCP connections allowed; further ones are refused and logged." },
  shutdown_timeout: {
    type: "string",
    default: "10",
    description: "Seconds SIGTERM/SIGINT may take to read what clients already sent and write it all before exiting.",
  },
  decode_threads: {
    type: "string",
    default: String(defaultDecodeThreads()),
    description: "Worker threads that decode and format TCP frames; the main thread writes (default: cores - 1, at least 2, at most 4).",
  },
  fsync: {
    type: "string",
    default: "interval:1000",
    description: "never | batch (fsync before acknowledging each batch) | interval:<ms> (fsync at most that long after a write).",
  },
} as const;

type ParsedArgs = { [K in keyof typeof cliArgs]: (typeof cliArgs)[K]["type"] extends "boolean" ? boolean : string | undefined };

function defaultLogDir(): string {
  return isCompiledExecutable() ? path.join(path.dirname(process.execPath), "logs") : path.resolve("logs");
}

function integerFlag(flag: string, raw: string | undefined, min: number, max: number): number {
  const text = (raw ?? "").trim();
  const value = Number(text);
  if (text === "" || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${raw ?? ""}".`);
  }
  return value;
}

export function parseFsyncPolicy(raw: string | undefined): FsyncPolicy {
  const text = (raw ?? "").trim();
  if (text === "never" || text === "batch") return { kind: text };
  const match = /^interval:(\d+)$/.exec(text);
  if (match && Number(match[1]) >= 1 && Number(match[1]) <= 3_600_000) return { kind: "interval", ms: Number(match[1]) };
  throw new UsageError(`--fsync must be never, batch or interval:<ms> with 1 to 3600000 ms, got "${raw ?? ""}".`);
}

/** A duration flag in seconds (decimals allowed, e.g. 0.5), returned in milliseconds. */
function secondsFlag(flag: string, raw: string | undefined, min: number, max: number): number {
  const text = (raw ?? "").trim();
  const value = Number(text);
  if (text === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${flag} must be a number of seconds from ${min} to ${max}, got "${raw ?? ""}".`);
  }
  return Math.round(value * 1000);
}

function writableDirectory(dir: string): string {
  const resolved = path.resolve(dir);
  try {
    mkdirSync(resolved, { recursive: true });
    accessSync(resolved, constants.W_OK);
  } catch (error) {
    throw new UsageError(`--log_dir ${resolved} is not a writable directory (${(error as NodeJS.ErrnoException).code ?? String(error)}).`);
  }
  return resolved;
}

const knownFlags = new Set(
  Object.keys(cliArgs).flatMap((name) => [name, name.replaceAll("_", "-")]).concat(["help", "h", "version", "v"]),
);

/** citty ignores unknown flags; a typo such as --prot must not silently start on the default port. */
export function rejectUnknownFlags(rawArgs: readonly string[]): void {
  for (const arg of rawArgs) {
    if (!arg.startsWith("-") || /^-\d/.test(arg)) continue; // a value such as -1, judged by its flag
    const name = arg.replace(/^--?/, "").replace(/=.*$/, "").replace(/^no-/, "");
    if (!knownFlags.has(name)) throw new UsageError(`unknown option ${arg.replace(/=.*$/, "")} (see --help).`);
  }
}

export function toServerConfig(args: ParsedArgs): ServerConfig {
  const name = (args.name ?? "").trim();
  if (name === "") throw new UsageError("--name must not be empty.");
  const host = (args.host ?? "").trim();
  if (host === "") throw new UsageError("--host must not be empty.");
  return {
    name,
    host,
    port: integerFlag("port", args.port, 0, 65535),
    grpcPort: integerFlag("grpc_port", args.grpc_port, 0, 65535),
    tcpOnly: args.tcp_only,
    metricsPort: integerFlag("metrics_port", args.metrics_port, 0, 65535),
    maxFileBytes: integerFlag("max_file_bytes", args.max_file_bytes, 1, Number.MAX_SAFE_INTEGER),
    backupCount: integerFlag("backup_count", args.backup_count, 0, 1000),
    gapTimeoutMs: integerFlag("gap_timeout_ms", args.gap_timeout_ms, 1, 3_600_000),
    fsync: parseFsyncPolicy(args.fsync),
    firstFrameTimeoutMs: secondsFlag("first_frame_timeout", args.first_frame_timeout, 0.05, 3600),
    idleTimeoutMs: secondsFlag("idle_timeout", args.idle_timeout, 0.05, 86_400),
    maxConnections: integerFlag("max_connections", args.max_connections, 1, 1_000_000),
    decodeThreads: integerFlag("decode_threads", args.decode_threads, 1, 64),
    shutdownTimeoutMs: secondsFlag("shutdown_timeout", args.shutdown_timeout, 0.1, 3600),
    maxPendingBytes: integerFlag("max_pending_bytes", args.max_pending_bytes, 1024 * 1024, Number.MAX_SAFE_INTEGER),
    logDir: writableDirectory(args.log_dir ?? defaultLogDir()),
  };
}

export function defineServerCommand(run: (config: ServerConfig) => Promise<void>) {
  return defineCommand({
    meta: {
      name: "log_server",
      version: VERSION,
      description: "Central log server: TCP (Cap'n Proto) and gRPC ingestion, one global sequence, ordered size-rotated _main.log.",
    },
    args: cliArgs,
    async run({ args, rawArgs }) {
      let config: ServerConfig;
      try {
        rejectUnknownFlags(rawArgs);
        config = toServerConfig(args as unknown as ParsedArgs);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        console.error(`log_server: ${error.message}`);
        process.exit(2);
      }
      await run(config);
    },
  });
}
