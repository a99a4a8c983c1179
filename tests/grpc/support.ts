// gRPC test clients built the way an ordinary grpc-js user would: @grpc/proto-loader reads the
// published proto files from disk (not the server's own embedded copy or codecs).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { REPO, type ServerProcess, type StartOptions, startServer } from "../support/server-process.ts";

export const PROTO_DIR = path.join(REPO, "proto");
export const STANDARD_PROTO_DIR = path.join(REPO, "src/grpc/protos");

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: Number, defaults: true, oneofs: true };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Package = any;

function load(file: string): Package {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, LOADER_OPTIONS));
}

export const logservice = load(path.join(PROTO_DIR, "log_service.proto")).logservice;
export const health = load(path.join(STANDARD_PROTO_DIR, "health.proto")).grpc.health.v1;
export const reflectionV1 = load(path.join(STANDARD_PROTO_DIR, "reflection-v1.proto")).grpc.reflection.v1;
/** v1alpha is v1 under its pre-release package name (the server derives it the same way). */
export const reflectionV1alpha = load(
  writeTemp(
    "reflection-v1alpha.proto",
    readFileSync(path.join(STANDARD_PROTO_DIR, "reflection-v1.proto"), "utf8").replace("package grpc.reflection.v1;", "package grpc.reflection.v1alpha;"),
  ),
).grpc.reflection.v1alpha;

function writeTemp(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "log_server-proto-")), name);
  writeFileSync(file, text);
  return file;
}

export type ServiceName = "LogService" | "LogBridge";

/** Client options: a connection of its own (no sharing between clients in one test). */
const CLIENT_OPTIONS = {
  "grpc.use_local_subchannel_pool": 1,
  // Larger than the server's limit, so the server's refusal is what tests see.
  "grpc.max_send_message_length": 64 * 1024 * 1024,
  // grpc-js keeps every message of a streaming call in a retry buffer and rescans it per message
  // (quadratic for long streams); with no retry buffer, writes wait for the transport instead.
  "grpc.per_rpc_retry_buffer_size": 0,
};

export interface LogRequest {
  timestamp?: string;
  hostname?: string;
  logger_name?: string;
  module?: string;
  level?: number;
  filename?: string;
  function_name?: string;
  line_number?: string;
  message?: string;
  path_name?: string;
  process_id?: string;
  process_name?: string;
  thread_id?: string;
  thread_name?: string;
  service_name?: string;
  stack_trace?: string;
}

export interface StreamSummary {
  accepted: number;
  first_sequence: number;
  last_sequence: number;
}

export class LogClient {
  readonly client: grpc.Client & Record<string, Function>;

  constructor(port: number, service: ServiceName = "LogService") {
    this.client = new logservice[service](`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS);
  }

  logMessage(request: LogRequest): Promise<{ success: boolean }> {
    return new Promise((resolve, reject) => {
      this.client.LogMessage(request, (error: grpc.ServiceError | null, response: { success: boolean }) =>
        error ? reject(error) : resolve(response),
      );
    });
  }

  /** Sends every request on one LogStream (respecting backpressure) and resolves with the summary. */
  logStream(requests: Iterable<LogRequest>): Promise<StreamSummary> {
    return new Promise((resolve, reject) => {
      const call = this.client.LogStream((error: grpc.ServiceError | null, summary: StreamSummary) =>
        error ? reject(error) : resolve(summary),
      ) as grpc.ClientWritableStream<LogRequest>;
      const iterator = requests[Symbol.iterator]();
      const pump = () => {
        for (;;) {
          const next = iterator.next();
          if (next.done) {
            call.end();
            return;
          }
          if (!call.write(next.value)) {
            call.once("drain", pump);
            return;
          }
        }
      };
      pump();
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Waits for a promise that must fail with a gRPC status; returns the error. */
export async function expectStatus(promise: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    const e = error as grpc.ServiceError;
    if (e.code !== code) throw new Error(`expected status ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    return e;
  }
  throw new Error(`expected status ${grpc.status[code]}, but the call succeeded`);
}

/** The fields of a line of _main.log (see src/format/line-format.ts), split on runs of spaces. */
export function lineSequence(line: string): number {
  return Number(line.slice(0, line.indexOf(" ")));
}

/** The message column onwards: everything after the 8 fixed columns. */
export function lineMessage(line: string): string {
  let rest = line;
  for (let i = 0; i < 8; i++) rest = rest.replace(/^\S+ +/, "");
  return rest;
}


/** A client that sends raw bytes as the request (to send what a correct client never would). */
export class RawClient {
  readonly client: grpc.Client & Record<string, Function>;

  constructor(port: number, service: ServiceName = "LogService") {
    const raw = (bytes: Buffer) => bytes;
    const method = (name: string, requestStream: boolean) => ({
      path: `/logservice.${service}/${name}`,
      requestStream,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    });
    const Client = grpc.makeGenericClientConstructor({ LogMessage: method("LogMessage", false), LogStream: method("LogStream", true) }, service);
    this.client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS) as RawClient["client"];
  }

  logMessage(bytes: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.LogMessage(Buffer.from(bytes), (error: grpc.ServiceError | null, response: Buffer) => (error ? reject(error) : resolve(response)));
    });
  }

  logStream(messages: Uint8Array[]): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const call = this.client.LogStream((error: grpc.ServiceError | null, response: Buffer) => (error ? reject(error) : resolve(response)));
      for (const message of messages) call.write(Buffer.from(message));
      call.end();
    });
  }

  close(): void {
    this.client.close();
  }
}

/**
 * The real server with gRPC on, and files large enough that these tests never rotate (they read
 * _main.log only; rotation has tests of its own).
 */
export function startGrpcServer(options: StartOptions = {}): Promise<ServerProcess> {
  return startServer({ ...options, tcpOnly: false, args: ["--max_file_bytes", String(1024 ** 3), ...(options.args ?? [])] });
}
