// gRPC (unary and streaming, both service names) and TCP clients at the same time: one sequence,
// no gaps, no duplicates, and every client's records in the order it sent them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { concat, logFrame } from "../support/frames.ts";
import { type ServerProcess, sendTcp } from "../support/server-process.ts";
import { lineMessage, lineSequence, LogClient, type LogRequest, startGrpcServer } from "./support.ts";

let server: ServerProcess;

beforeAll(async () => {
  server = await startGrpcServer();
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

const TCP_CLIENTS = 4;
const TCP_RECORDS = 2000;
const UNARY_CLIENTS = 4;
const UNARY_RECORDS_PER_CALLER = 20;
const UNARY_CONCURRENCY = 25;
const STREAM_CLIENTS = 2;
const STREAM_RECORDS = 3000;

async function tcpClient(id: number): Promise<void> {
  const frames = Array.from({ length: TCP_RECORDS }, (_, i) => logFrame({ message: `tcp${id} ${i}`, level: 3, timestamp: "t" }));
  // Several chunks, so frames arrive in different reads.
  const chunkSize = 250;
  const chunks = [];
  for (let i = 0; i < frames.length; i += chunkSize) chunks.push(concat(frames.slice(i, i + chunkSize)));
  await sendTcp(server.tcpPort, ...chunks);
}

/**
 * UNARY_CONCURRENCY callers sharing one connection, each sending its records one after another
 * (the next only after the previous was acknowledged), so each caller has an order of its own.
 */
async function unaryClient(id: number): Promise<void> {
  const client = new LogClient(server.grpcPort, id % 2 === 0 ? "LogService" : "LogBridge");
  const caller = async (n: number) => {
    for (let i = 0; i < UNARY_RECORDS_PER_CALLER; i++) {
      expect(await client.logMessage({ message: `unary${id}.${n} ${i}`, level: 6, timestamp: "t" })).toEqual({ success: true });
    }
  };
  await Promise.all(Array.from({ length: UNARY_CONCURRENCY }, (_, n) => caller(n)));
  client.close();
}

async function streamClient(id: number): Promise<void> {
  const client = new LogClient(server.grpcPort, id % 2 === 0 ? "LogBridge" : "LogService");
  const requests: LogRequest[] = Array.from({ length: STREAM_RECORDS }, (_, i) => ({ message: `stream${id} ${i}`, level: 1, timestamp: "t" }));
  const summary = await client.logStream(requests);
  expect(summary.accepted).toBe(STREAM_RECORDS);
  client.close();
}

test("TCP and gRPC clients share one gap-free sequence and keep their own order", async () => {
  await Promise.all([
    ...Array.from({ length: TCP_CLIENTS }, (_, id) => tcpClient(id)),
    ...Array.from({ length: UNARY_CLIENTS }, (_, id) => unaryClient(id)),
    ...Array.from({ length: STREAM_CLIENTS }, (_, id) => streamClient(id)),
  ]);
  const total = TCP_CLIENTS * TCP_RECORDS + UNARY_CLIENTS * UNARY_CONCURRENCY * UNARY_RECORDS_PER_CALLER + STREAM_CLIENTS * STREAM_RECORDS;
  const lines = await server.waitForLines(total); // TCP has no acknowledgement: wait for its records
  expect(lines).toHaveLength(total);
  expect(lines.map(lineSequence)).toEqual(lines.map((_, i) => i));

  const byClient = new Map<string, number[]>();
  for (const line of lines) {
    const [client, index] = lineMessage(line).split(" ");
    if (!byClient.has(client)) byClient.set(client, []);
    byClient.get(client)!.push(Number(index));
  }
  expect(byClient.size).toBe(TCP_CLIENTS + UNARY_CLIENTS * UNARY_CONCURRENCY + STREAM_CLIENTS);
  for (const [client, indexes] of byClient) {
    const count = client.startsWith("tcp") ? TCP_RECORDS : client.startsWith("unary") ? UNARY_RECORDS_PER_CALLER : STREAM_RECORDS;
    expect({ client, indexes }).toEqual({ client, indexes: Array.from({ length: count }, (_, i) => i) });
  }
}, 120_000);
