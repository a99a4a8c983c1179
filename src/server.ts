// Starts and stops the server's parts in order: file → writer → sequencer → listeners.
import { LOG_FILE_NAME, type ServerConfig } from "./config.ts";
import { GrpcServer } from "./grpc/grpc-server.ts";
import { MetricsServer } from "./metrics/metrics-server.ts";
import { OpsLog } from "./ops-log.ts";
import { RecordSink } from "./pipeline/record-sink.ts";
import { Sequencer } from "./pipeline/sequencer.ts";
import { TcpListener } from "./tcp/tcp-listener.ts";
import { lastSequenceIn } from "./writer/last-sequence.ts";
import type { LogFile } from "./writer/log-file.ts";
import { OrderedWriter } from "./writer/ordered-writer.ts";
import { RotatingFile } from "./writer/rotating-file.ts";
import { DirLock, DirLockError } from "./writer/dir-lock.ts";
import { VERSION } from "./version.ts";

/** A startup failure the operator can act on; main prints it as one sentence and exits 1. */
export class StartupError extends Error {}

export class LogServer {
  readonly ops: OpsLog;
  readonly file: LogFile;
  writer!: OrderedWriter;
  sink!: RecordSink;
  tcp: TcpListener | null = null;
  grpc: GrpcServer | null = null;
  /** /metrics, /healthz, /readyz; null under --metrics_port 0. */
  metrics: MetricsServer | null = null;
  #stopping: Promise<boolean> | null = null;

  readonly lock: DirLock;

  /** `parts.file` replaces the real _main.log (tests use slow or failing files). */
  constructor(
    readonly config: ServerConfig,
    parts: { file?: LogFile; ops?: OpsLog } = {},
  ) {
    this.ops = parts.ops ?? new OpsLog(config.name);
    this.file = parts.file ?? new RotatingFile(config.logDir, LOG_FILE_NAME, config.backupCount);
    this.lock = new DirLock(config.logDir);
  }

  async start(): Promise<void> {
    const { config, ops } = this;
    ops.info("starting log server");
    try {
      const staleOwner = this.lock.acquire();
      if (staleOwner !== null) ops.warn(`took over the lock of log_server pid ${staleOwner}, which is no longer running`);
    } catch (error) {
      if (error instanceof DirLockError) throw new StartupError(error.message);
      throw error;
    }
    const firstSequence = this.#firstSequence();
    try {
      await this.file.open();
    } catch (error) {
      throw new StartupError(`cannot open ${this.file.path} for appending (${(error as NodeJS.ErrnoException).code ?? error}).`);
    }
    ops.info(`writing to ${this.file.path}; next sequence number is ${firstSequence}`);
    this.writer = new OrderedWriter(this.file, {
      firstSequence,
      maxFileBytes: config.maxFileBytes,
      gapTimeoutMs: config.gapTimeoutMs,
      fsync: config.fsync,
      maxPendingBytes: config.maxPendingBytes,
      ops,
    });
    this.sink = new RecordSink(Sequencer.startingAt(firstSequence), this.writer);

    ops.info("starting server components");
    this.tcp = new TcpListener({
      host: config.host,
      port: config.port,
      sink: this.sink,
      ops,
      firstFrameTimeoutMs: config.firstFrameTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      maxConnections: config.maxConnections,
      decodeThreads: config.decodeThreads,
    });
    try {
      this.tcp.start();
    } catch (error) {
      throw new StartupError(`cannot listen for TCP on ${config.host}:${config.port} (${(error as Error).message}).`);
    }
    ops.info(`TCP server listening on ${formatHostPort(config.host, this.tcp.port)}`);
    if (!config.tcpOnly) {
      this.grpc = new GrpcServer({ host: config.host, port: config.grpcPort, sink: this.sink, ops });
      let grpcPort: number;
      try {
        grpcPort = await this.grpc.start();
      } catch (error) {
        throw new StartupError(`cannot listen for gRPC on ${formatHostPort(config.host, config.grpcPort)} (${(error as Error).message}).`);
      }
      ops.info(`gRPC server listening on ${formatHostPort(config.host, grpcPort)}`);
    }
    if (config.metricsPort !== 0) {
      this.metrics = new MetricsServer({ host: config.host, port: config.metricsPort, source: this, version: VERSION, ops });
      try {
        this.metrics.start();
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        throw new StartupError(
          `cannot listen for metrics (HTTP) on ${formatHostPort(config.host, config.metricsPort)} (${e.code ?? e.message}); ` +
            "choose another --metrics_port, or 0 for no metrics server.",
        );
      }
      ops.info(`metrics server listening on ${formatHostPort(config.host, this.metrics.port)}`);
    }
    ops.info("all server components started");
  }

  /** Continue after the highest number on disk: the live file, or the newest backup if the live one is empty. */
  #firstSequence(): number {
    const path = this.file.path;
    const last = lastSequenceIn(path) ?? lastSequenceIn(`${path}.0`);
    return last === null ? 0 : last + 1;
  }

  /** SIGHUP: reopen _main.log after an external logrotate moved it. */
  async reopen(): Promise<void> {
    if (!this.writer) return;
    await this.writer.reopen();
  }

  get stopping(): boolean {
    return this.#stopping !== null;
  }

  /**
   * SIGTERM/SIGINT: accept nothing new, read what connected clients already sent, write and fsync
   * everything, release the lock. Resolves true when all of it was written within --shutdown_timeout.
   * Safe to call more than once.
   */
  stop(): Promise<boolean> {
    // The metrics server stops last: /healthz answers throughout, /readyz says 503 from the start.
    this.#stopping ??= this.#stop().finally(() => this.metrics?.stop());
    return this.#stopping;
  }

  async #stop(): Promise<boolean> {
    const started = performance.now();
    const deadline = started + this.config.shutdownTimeoutMs;
    this.ops.info("stopping: no new connections; reading what clients already sent, then writing it all");
    this.grpc?.stopAccepting();
    // Reading gets at most half the time, so writing what was read always has the rest.
    await this.tcp?.drain(started + this.config.shutdownTimeoutMs / 2);
    const written = await Promise.race([
      (this.writer?.close() ?? Promise.resolve()).then(() => true),
      Bun.sleep(Math.max(0, deadline - performance.now())).then(() => false),
    ]);
    await this.grpc?.shutdown();
    if (!written) {
      this.ops.error(
        `shutdown timeout (${this.config.shutdownTimeoutMs / 1000} s): ${this.writer.pendingRecords} records (${this.writer.pendingBytes} bytes) ` +
          `were received but could not be written to ${this.file.path}; they are lost`,
      );
      return false;
    }
    this.lock.release();
    this.ops.info(`stopped; last written sequence is ${this.writer?.settled ?? "none"}`);
    return true;
  }
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
