// The handlers of logservice.LogService and logservice.LogBridge (one implementation, two names).
//
// LogMessage: decode and validate, take a sequence number from the shared sink, and answer
// success = true only once the writer reports that sequence written (AckQueue). Refusals are gRPC
// statuses, never success = false: INVALID_ARGUMENT (says why), RESOURCE_EXHAUSTED (backlog at
// --max_pending_bytes), UNAVAILABLE (shutting down).
//
// LogStream: every message is validated and accepted as it arrives; the summary is sent once the
// stream's last record is written. While the backlog is at its bound the stream is paused (HTTP/2
// flow control holds the client back) instead of refused. A stream that fails part-way —
// INVALID_ARGUMENT at message #i, or UNAVAILABLE because the server stops — keeps the records it
// sent before: they are written, and the failure status (sent once they are) says how many.
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import type { RecordSink } from "../pipeline/record-sink.ts";
import type { AckQueue } from "./acks.ts";
import { LogRequestDecoder } from "./log-request.ts";
import { encodeMessage, lookupType, type MethodCodec, protobufCodec } from "./proto.ts";
import { BACKLOG_FULL, grpcError, type RejectionReport, SHUTTING_DOWN } from "./status.ts";

export const LOG_SERVICE_NAMES = ["logservice.LogService", "logservice.LogBridge"] as const;

/** The one LogResponse ever sent. */
const SUCCESS = { success: true };
const SUCCESS_BYTES = encodeMessage(lookupType("logservice.LogResponse"), SUCCESS);
const summaryType = lookupType("logservice.LogStreamSummary");

export interface StreamSummary {
  accepted: number;
  first_sequence: number;
  last_sequence: number;
}

/**
 * Requests arrive as raw bytes (decoded by LogRequestDecoder in the handler, so a malformed one gets
 * INVALID_ARGUMENT rather than grpc-js's INTERNAL); the constant LogResponse is serialized once.
 */
export function logServiceCodec(method: protobuf.Method): MethodCodec {
  const raw = (bytes: Buffer) => bytes;
  if (method.name === "LogMessage") return { requestDeserialize: raw, responseSerialize: () => SUCCESS_BYTES };
  if (method.name === "LogStream") {
    return { requestDeserialize: raw, responseSerialize: (summary) => encodeMessage(summaryType, summary as StreamSummary) };
  }
  return protobufCodec(method);
}

/** One LogStream call in progress. */
class StreamState {
  /** Messages received so far (the index of the next one). */
  received = 0;
  accepted = 0;
  firstSequence = 0;
  lastSequence = 0;
  /** Answered (or answer queued), cancelled, or failed: further messages are ignored. */
  done = false;

  constructor(
    readonly call: grpc.ServerReadableStream<Buffer, StreamSummary>,
    readonly callback: grpc.sendUnaryData<StreamSummary>,
  ) {}

  describeKept(): string {
    if (this.accepted === 0) return "no records of this stream were accepted";
    return `the ${this.accepted} records before it were accepted and are written (sequences ${this.firstSequence}..${this.lastSequence})`;
  }
}

export class LogIngestService {
  readonly #decoder = new LogRequestDecoder();
  readonly #streams = new Set<StreamState>();
  readonly #paused = new Set<StreamState>();
  #stopping = false;

  constructor(
    readonly sink: RecordSink,
    readonly acks: AckQueue,
    readonly rejections: RejectionReport,
  ) {
    sink.writer.onResume(() => this.#resumeStreams());
  }

  /** Streams in progress. */
  get activeStreams(): number {
    return this.#streams.size;
  }

  /** The implementation object for both service names. */
  readonly handlers: grpc.UntypedServiceImplementation = {
    LogMessage: (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      this.#logMessage(call, callback),
    LogStream: (call: grpc.ServerReadableStream<Buffer, StreamSummary>, callback: grpc.sendUnaryData<StreamSummary>) =>
      this.#logStream(call, callback),
  };

  #logMessage(call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>): void {
    if (this.#stopping) {
      this.rejections.note("UNAVAILABLE", () => "");
      callback(SHUTTING_DOWN);
      return;
    }
    if (this.sink.writer.saturated) {
      this.rejections.note("RESOURCE_EXHAUSTED", () => `LogMessage from ${call.getPeer()} (write backlog full)`);
      callback(BACKLOG_FULL);
      return;
    }
    const problem = this.#decoder.decode(call.request);
    if (problem !== null) {
      this.rejections.note("INVALID_ARGUMENT", () => `LogMessage from ${call.getPeer()}: ${problem}`);
      callback(grpcError(status.INVALID_ARGUMENT, problem));
      return;
    }
    const sequence = this.sink.accept(this.#decoder.fields, "grpc");
    this.acks.resolveWhenWritten(sequence, callback, SUCCESS);
  }

  #logStream(call: grpc.ServerReadableStream<Buffer, StreamSummary>, callback: grpc.sendUnaryData<StreamSummary>): void {
    if (this.#stopping) {
      this.rejections.note("UNAVAILABLE", () => "");
      callback(SHUTTING_DOWN);
      return;
    }
    const stream = new StreamState(call, callback);
    this.#streams.add(stream);
    call.on("data", (bytes: Buffer) => this.#streamMessage(stream, bytes));
    call.on("end", () => this.#endStream(stream));
    // Cancelled by the client (or its deadline): what was accepted stays accepted and is written.
    call.on("cancelled", () => this.#forget(stream));
    call.on("error", () => this.#forget(stream));
  }

  #streamMessage(stream: StreamState, bytes: Buffer): void {
    if (stream.done) return;
    const index = stream.received++;
    const problem = this.#decoder.decode(bytes);
    if (problem !== null) {
      const why = `LogRequest #${index} of the stream (counting from 0) was refused: ${problem}`;
      this.rejections.note("INVALID_ARGUMENT", () => `LogStream from ${stream.call.getPeer()}: ${why}`);
      this.#failStream(stream, status.INVALID_ARGUMENT, why);
      return;
    }
    const sequence = this.sink.accept(this.#decoder.fields, "grpc");
    if (stream.accepted++ === 0) stream.firstSequence = sequence;
    stream.lastSequence = sequence;
    if (this.sink.writer.saturated && !this.#paused.has(stream)) {
      this.#paused.add(stream);
      stream.call.pause();
    }
  }

  #endStream(stream: StreamState): void {
    if (stream.done) return;
    this.#forget(stream);
    const summary: StreamSummary = { accepted: stream.accepted, first_sequence: 0, last_sequence: 0 };
    if (stream.accepted === 0) {
      stream.callback(null, summary);
      return;
    }
    summary.first_sequence = stream.firstSequence;
    summary.last_sequence = stream.lastSequence;
    this.acks.resolveWhenWritten(stream.lastSequence, stream.callback as grpc.sendUnaryData<unknown>, summary);
  }

  /** Ends the stream with `code`, once the records it already sent are written. */
  #failStream(stream: StreamState, code: status, why: string): void {
    this.#forget(stream);
    const error = grpcError(code, `${why}; ${stream.describeKept()}`);
    if (stream.accepted === 0) stream.callback(error);
    else this.acks.rejectWhenWritten(stream.lastSequence, stream.callback as grpc.sendUnaryData<unknown>, error);
  }

  #forget(stream: StreamState): void {
    stream.done = true;
    this.#streams.delete(stream);
    this.#paused.delete(stream);
  }

  #resumeStreams(): void {
    for (const stream of this.#paused) stream.call.resume();
    this.#paused.clear();
  }

  /**
   * From now on new calls get UNAVAILABLE, and open streams end with UNAVAILABLE once what they sent is
   * written. Unary calls already accepted are answered normally as the writer finishes.
   */
  stopAccepting(): void {
    this.#stopping = true;
    for (const stream of [...this.#streams]) {
      this.#failStream(stream, status.UNAVAILABLE, "the log server is shutting down and stopped reading this stream");
    }
  }
}
