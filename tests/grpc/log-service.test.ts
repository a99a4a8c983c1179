// LogIngestService with a fake sink and writer: refusals at the backlog bound and while stopping,
// and backpressure on streams (states that are hard to reach on purpose with a real server).
import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { AckQueue } from "../../src/grpc/acks.ts";
import { LogIngestService } from "../../src/grpc/log-service.ts";
import { RejectionReport } from "../../src/grpc/status.ts";
import type { OpsLog } from "../../src/ops-log.ts";
import type { RecordSink } from "../../src/pipeline/record-sink.ts";

const LogRequest = (message: string) => Buffer.concat([Buffer.from([0x4a, message.length]), Buffer.from(message)]);

class FakeWriter {
  saturated = false;
  #resume: Array<() => void> = [];
  onResume(listener: () => void): void {
    this.#resume.push(listener);
  }
  resume(): void {
    this.saturated = false;
    for (const listener of this.#resume) listener();
  }
}

function setup() {
  const writer = new FakeWriter();
  const accepted: string[] = [];
  const sink = {
    writer,
    accept(fields: { bytes: Uint8Array; start: Int32Array; length: Int32Array }) {
      accepted.push(Buffer.from(fields.bytes.subarray(fields.start[7], fields.start[7] + fields.length[7])).toString());
      return accepted.length - 1;
    },
  } as unknown as RecordSink;
  const warnings: string[] = [];
  const ops = { warn: (m: string) => warnings.push(m), info() {}, error() {} } as unknown as OpsLog;
  const acks = new AckQueue(-1);
  const service = new LogIngestService(sink, acks, new RejectionReport(ops));
  return { writer, accepted, acks, service, warnings };
}

type Answer = { error: grpc.ServiceError | null; value: unknown };

function unary(service: LogIngestService, request: Buffer): Answer[] {
  const answers: Answer[] = [];
  const call = { request, getPeer: () => "test-peer" };
  service.handlers.LogMessage(call as never, ((error: grpc.ServiceError | null, value: unknown) => answers.push({ error, value })) as never);
  return answers;
}

class FakeStream extends EventEmitter {
  paused = false;
  pause() {
    this.paused = true;
    return this;
  }
  resume() {
    this.paused = false;
    return this;
  }
  getPeer() {
    return "test-peer";
  }
}

function stream(service: LogIngestService) {
  const call = new FakeStream();
  const answers: Answer[] = [];
  service.handlers.LogStream(call as never, ((error: grpc.ServiceError | null, value: unknown) => answers.push({ error, value })) as never);
  return { call, answers };
}

describe("LogIngestService", () => {
  test("LogMessage at the backlog bound: RESOURCE_EXHAUSTED, nothing accepted, one warning", () => {
    const { writer, accepted, service, warnings } = setup();
    writer.saturated = true;
    const first = unary(service, LogRequest("a"));
    unary(service, LogRequest("b"));
    expect(first[0].error!.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(first[0].error!.details).toContain("--max_pending_bytes");
    expect(accepted).toEqual([]);
    expect(warnings).toHaveLength(1); // throttled
  });

  test("LogMessage is answered only when the writer settles its sequence", () => {
    const { accepted, acks, service } = setup();
    const answers = unary(service, LogRequest("x"));
    expect(accepted).toEqual(["x"]);
    expect(answers).toEqual([]);
    acks.settle(0);
    expect(answers).toEqual([{ error: null, value: { success: true } }]);
  });

  test("a stream pauses at the backlog bound instead of failing, and resumes when it drains", () => {
    const { writer, accepted, acks, service } = setup();
    const { call, answers } = stream(service);
    call.emit("data", LogRequest("s0"));
    writer.saturated = true;
    call.emit("data", LogRequest("s1")); // accepted, then the stream is paused
    expect(call.paused).toBe(true);
    writer.resume();
    expect(call.paused).toBe(false);
    call.emit("data", LogRequest("s2"));
    call.emit("end");
    expect(accepted).toEqual(["s0", "s1", "s2"]);
    expect(answers).toEqual([]);
    acks.settle(2);
    expect(answers).toEqual([{ error: null, value: { accepted: 3, first_sequence: 0, last_sequence: 2 } }]);
  });

  test("stopping: new calls get UNAVAILABLE, an open stream ends with UNAVAILABLE once its records are written", () => {
    const { accepted, acks, service } = setup();
    const open = stream(service);
    open.call.emit("data", LogRequest("kept"));
    service.stopAccepting();
    open.call.emit("data", LogRequest("ignored"));
    expect(unary(service, LogRequest("late"))[0].error!.code).toBe(grpc.status.UNAVAILABLE);
    expect(stream(service).answers[0].error!.code).toBe(grpc.status.UNAVAILABLE);
    expect(accepted).toEqual(["kept"]);
    expect(open.answers).toEqual([]);
    acks.settle(0);
    expect(open.answers[0].error!.code).toBe(grpc.status.UNAVAILABLE);
    expect(open.answers[0].error!.details).toContain("the 1 records before it were accepted and are written (sequences 0..0)");
  });

  test("a cancelled stream keeps what it sent and is never answered", () => {
    const { accepted, service } = setup();
    const { call, answers } = stream(service);
    call.emit("data", LogRequest("before cancel"));
    call.emit("cancelled");
    call.emit("data", LogRequest("after cancel"));
    call.emit("end");
    expect(accepted).toEqual(["before cancel"]);
    expect(answers).toEqual([]);
    expect(service.activeStreams).toBe(0);
  });
});
