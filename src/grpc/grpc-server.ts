// The gRPC ingest server: plaintext HTTP/2 on --host:--grpc_port serving logservice.LogService and
// logservice.LogBridge (same handlers), plus grpc.health.v1.Health and server reflection.
// Records go to the shared RecordSink, so gRPC and TCP share one sequence and one file; answers are
// sent once the writer has the record in the file (AckQueue).
//
// Stopping has two steps, around the writer's close (see LogServer.stop):
//   stopAccepting() — new calls get UNAVAILABLE; open streams end with UNAVAILABLE once what they sent
//                     is written; health turns NOT_SERVING; connections get GOAWAY.
//   shutdown()      — after the writer closed (so every accepted record has been answered): waits a
//                     moment for connections to finish, then closes what is left.
import * as grpc from "@grpc/grpc-js";
import type { OpsLog } from "../ops-log.ts";
import type { RecordSink } from "../pipeline/record-sink.ts";
import { AckQueue } from "./acks.ts";
import { HEALTH_SERVICE_NAME, HealthService } from "./health.ts";
import { LOG_SERVICE_NAMES, LogIngestService, logServiceCodec } from "./log-service.ts";
import { serviceDefinition } from "./proto.ts";
import { REFLECTION_SERVICE_NAMES, ReflectionService } from "./reflection.ts";
import { GRPC_SERVER_OPTIONS } from "./server-options.ts";
import { RejectionReport } from "./status.ts";

export interface GrpcServerOptions {
  host: string;
  port: number;
  sink: RecordSink;
  ops: OpsLog;
}

/** How long shutdown() waits for clients to close their connections before closing them. */
const SHUTDOWN_GRACE_MS = 2000;

export class GrpcServer {
  readonly acks: AckQueue;
  readonly rejections: RejectionReport;
  readonly ingest: LogIngestService;
  readonly health: HealthService;
  #server = new grpc.Server(GRPC_SERVER_OPTIONS);
  #port = 0;
  #closed: Promise<void> | null = null;
  #binding = false;

  constructor(readonly options: GrpcServerOptions) {
    const { sink, ops } = options;
    const writer = sink.writer;
    routeGrpcJsLogs(ops, () => this.#binding);
    this.acks = new AckQueue(writer.settled, (error) =>
      ops.error(`answering a gRPC call failed: ${error instanceof Error ? error.message : String(error)}`),
    );
    writer.onSettled((settled) => this.acks.settle(settled));
    this.rejections = new RejectionReport(ops);
    this.ingest = new LogIngestService(sink, this.acks, this.rejections);
    this.health = new HealthService(LOG_SERVICE_NAMES, writer.healthy);
    writer.onHealthChange((healthy) => this.health.setHealthy(healthy));

    for (const name of LOG_SERVICE_NAMES) this.#server.addService(serviceDefinition(name, logServiceCodec), this.ingest.handlers);
    this.#server.addService(serviceDefinition(HEALTH_SERVICE_NAME), this.health.handlers);
    const reflection = new ReflectionService([...LOG_SERVICE_NAMES, HEALTH_SERVICE_NAME, ...REFLECTION_SERVICE_NAMES]);
    for (const name of REFLECTION_SERVICE_NAMES) this.#server.addService(serviceDefinition(name), reflection.handlers);
  }

  /** The bound port (after start). */
  get port(): number {
    return this.#port;
  }

  /** Binds --host:--grpc_port; resolves with the bound port, rejects with a one-line reason. */
  start(): Promise<number> {
    const address = bindAddress(this.options.host, this.options.port);
    this.#binding = true;
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
        this.#binding = false;
        if (error) {
          reject(new Error(bindFailureReason(error)));
          return;
        }
        this.#port = port;
        resolve(port);
      });
    });
  }

  /** New calls get UNAVAILABLE from now on; calls already accepted are answered as their records are written. */
  stopAccepting(): void {
    if (this.#closed) return;
    this.ingest.stopAccepting();
    this.health.stop();
    // GOAWAY to every connection: clients open no new calls here; open ones may finish.
    this.#closed = new Promise((resolve) => this.#server.tryShutdown(() => resolve()));
  }

  /** Waits up to SHUTDOWN_GRACE_MS for connections to close, then closes the rest. */
  async shutdown(): Promise<void> {
    this.stopAccepting();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), SHUTDOWN_GRACE_MS)));
    const outcome = await Promise.race([this.#closed, graceOver]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.options.ops.warn(`gRPC connections still open ${SHUTDOWN_GRACE_MS} ms after the last record was written; closing them`);
      this.#server.forceShutdown();
    }
  }
}

/**
 * grpc-js's own diagnostics (errors; info and debug only when GRPC_VERBOSITY asks for them) go to the
 * ops log with a "grpc-js:" prefix, except while binding: start() reports a bind failure itself.
 * grpc-js has one logger per process.
 */
function routeGrpcJsLogs(ops: OpsLog, binding: () => boolean): void {
  const text = (message: unknown, rest: unknown[]) => ["grpc-js:", message, ...rest].map(String).join(" ");
  grpc.setLogger({
    error: (message?: unknown, ...rest: unknown[]) => {
      if (!binding()) ops.warn(text(message, rest));
    },
    info: (message?: unknown, ...rest: unknown[]) => ops.info(text(message, rest)),
    debug: (message?: unknown, ...rest: unknown[]) => ops.info(text(message, rest)),
  });
}

/** grpc-js wants "host:port", with brackets around an IPv6 address. */
function bindAddress(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** grpc-js reports e.g. "No address added out of total 1 resolved: errors: [listen EADDRINUSE …]"; keep the cause. */
function bindFailureReason(error: Error): string {
  const cause = /\[(.+)\]/.exec(error.message)?.[1];
  return cause ?? error.message;
}
