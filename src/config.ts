// Server configuration: the validated result of the command line, shared by every component.

export type FsyncPolicy = { kind: "never" } | { kind: "batch" } | { kind: "interval"; ms: number };

export interface ServerConfig {
  /** Instance name, the prefix of every operational message ("LogServer : ..."). */
  name: string;
  host: string;
  /** TCP (Cap'n Proto) port; 0 picks a free port (the bound one is printed). */
  port: number;
  /** gRPC port; 0 picks a free port. */
  grpcPort: number;
  tcpOnly: boolean;
  logDir: string;
  maxFileBytes: number;
  backupCount: number;
  /** How long the writer waits for a missing sequence number before writing a gap marker. */
  gapTimeoutMs: number;
  /** When written data is forced to disk; see README "Durability". */
  fsync: FsyncPolicy;
  /** Bound on formatted-but-unwritten bytes; at it, TCP reads pause and gRPC calls get RESOURCE_EXHAUSTED. */
  maxPendingBytes: number;
  /** HTTP port of /metrics, /healthz and /readyz on --host; 0 starts no metrics server. */
  metricsPort: number;
  /** A TCP connection with no complete first frame (heartbeats count) after this long is closed. */
  firstFrameTimeoutMs: number;
  /** A TCP connection that sends nothing at all (heartbeats count) for this long is closed. */
  idleTimeoutMs: number;
  /** Concurrent TCP connections allowed; more are refused with a log line. */
  maxConnections: number;
  /** SIGTERM/SIGINT: how long reading what clients already sent and writing it may take before exit. */
  shutdownTimeoutMs: number;
  /** Worker threads that decode and format TCP frames off the main thread. */
  decodeThreads: number;
}

export const MAX_FRAME_BYTES = 10 * 1024 * 1024;
export const LOG_FILE_NAME = "_main.log";
