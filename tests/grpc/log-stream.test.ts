// LogStream against the real server: the summary matches the file, failures keep what came before.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import { status } from "@grpc/grpc-js";
import protobuf from "protobufjs";
import type { ServerProcess } from "../support/server-process.ts";
import { expectStatus, lineMessage, lineSequence, LogClient, type LogRequest, PROTO_DIR, RawClient, startGrpcServer } from "./support.ts";

let server: ServerProcess;
let client: LogClient;
let bridge: LogClient;
let raw: RawClient;

beforeAll(async () => {
  server = await startGrpcServer();
  client = new LogClient(server.grpcPort, "LogService");
  bridge = new LogClient(server.grpcPort, "LogBridge");
  raw = new RawClient(server.grpcPort);
});

afterAll(async () => {
  client.close();
  bridge.close();
  raw.close();
  expect(await server.stop()).toBe(0);
});

function* records(prefix: string, count: number): Generator<LogRequest> {
  for (let i = 0; i < count; i++) yield { message: `${prefix} ${i}`, level: i % 12, timestamp: "t", hostname: prefix };
}

/** Sequence numbers of the lines whose message starts with `prefix `, in file order. */
function sequencesOf(prefix: string): { sequences: number[]; messages: string[] } {
  const lines = server.logLines().filter((line) => lineMessage(line).startsWith(`${prefix} `));
  return { sequences: lines.map(lineSequence), messages: lines.map(lineMessage) };
}

test("the summary counts every record and names the first and last sequence; all are written when it arrives", async () => {
  const summary = await client.logStream(records("solo", 5000));
  const { sequences, messages } = sequencesOf("solo");
  expect(summary).toEqual({ accepted: 5000, first_sequence: sequences[0], last_sequence: sequences.at(-1)! });
  expect(messages).toEqual([...records("solo", 5000)].map((r) => r.message!));
}, 60_000);

test("concurrent streams (both service names) and unary calls: each summary matches its own records", async () => {
  const unary = (async () => {
    for (let i = 0; i < 200; i++) await client.logMessage({ message: `unary ${i}`, timestamp: "t" });
  })();
  const [a, b] = await Promise.all([client.logStream(records("alpha", 20_000)), bridge.logStream(records("beta", 20_000)), unary]);
  for (const [prefix, summary] of [["alpha", a], ["beta", b]] as const) {
    const { sequences, messages } = sequencesOf(prefix);
    expect(messages).toEqual([...records(prefix, 20_000)].map((r) => r.message!)); // the stream's own order
    expect(summary).toEqual({ accepted: 20_000, first_sequence: sequences[0], last_sequence: sequences.at(-1)! });
  }
  // One sequence for everybody, no gaps, no duplicates.
  const all = server.logLines().map(lineSequence);
  expect(all).toEqual(all.map((_, i) => all[0] + i));
}, 60_000);

test("an empty stream is answered with zeros", async () => {
  expect(await client.logStream([])).toEqual({ accepted: 0, first_sequence: 0, last_sequence: 0 });
});

test("a bad message ends the stream with INVALID_ARGUMENT naming its index; the records before it are written", async () => {
  const requests = [...records("partial", 3), { message: "partial bad", level: 12 }, ...records("partial after", 3)];
  const error = await expectStatus(client.logStream(requests), status.INVALID_ARGUMENT);
  expect(error.details).toContain("LogRequest #3 of the stream");
  expect(error.details).toContain("level 12 is not a Level");
  const { sequences, messages } = sequencesOf("partial");
  expect(messages).toEqual(["partial 0", "partial 1", "partial 2"]);
  expect(error.details).toContain(`the 3 records before it were accepted and are written (sequences ${sequences[0]}..${sequences[2]})`);
});

test("a first message that is not a LogRequest: INVALID_ARGUMENT, nothing written", async () => {
  const before = server.logLines().length;
  const error = await expectStatus(raw.logStream([new Uint8Array([0x4a, 0x09, 0x61])]), status.INVALID_ARGUMENT);
  expect(error.details).toContain("LogRequest #0 of the stream");
  expect(error.details).toContain("no records of this stream were accepted");
  expect(server.logLines().length).toBe(before);
});

test("LogMessage with bytes that are not a LogRequest, or not UTF-8: INVALID_ARGUMENT saying why", async () => {
  const notProto = await expectStatus(raw.logMessage(new Uint8Array([0xff, 0xff, 0xff])), status.INVALID_ARGUMENT);
  expect(notProto.details).toContain("not a LogRequest");
  const notUtf8 = await expectStatus(raw.logMessage(new Uint8Array([0x4a, 0x02, 0xc3, 0x28])), status.INVALID_ARGUMENT);
  expect(notUtf8.details).toBe("message is not valid UTF-8");
});

test("the raw answers are the protobuf encodings in the proto (LogResponse, LogStreamSummary)", async () => {
  const root = new protobuf.Root().loadSync(path.join(PROTO_DIR, "log_service.proto"), { keepCase: true });
  const LogRequestType = root.lookupType("logservice.LogRequest");
  const message = LogRequestType.encode({ message: "raw ok" }).finish();
  const response = await raw.logMessage(message);
  expect(root.lookupType("logservice.LogResponse").toObject(root.lookupType("logservice.LogResponse").decode(response))).toEqual({ success: true });
  const summaryBytes = await raw.logStream([message, message]);
  const summary = root.lookupType("logservice.LogStreamSummary").toObject(root.lookupType("logservice.LogStreamSummary").decode(summaryBytes), { longs: Number });
  expect(summary.accepted).toBe(2);
  expect(summary.last_sequence - summary.first_sequence).toBe(1);
});
