// "Acknowledged means written": everything answered with success (or counted in a stream summary)
// is in the file even if the server is killed with SIGKILL the moment the answers arrive.
import { expect, test } from "bun:test";
import { lineMessage, LogClient, type LogRequest, startGrpcServer } from "./support.ts";

const CALLS = 2000;
const CONCURRENCY = 100;
const STREAM_RECORDS = 5000;

test(`${CALLS} acknowledged unary calls and a stream survive SIGKILL`, async () => {
  const server = await startGrpcServer();
  const unary = new LogClient(server.grpcPort, "LogService");
  const streaming = new LogClient(server.grpcPort, "LogBridge");

  let next = 0;
  const acknowledged: string[] = [];
  const worker = async () => {
    while (next < CALLS) {
      const message = `ack ${next++}`;
      const response = await unary.logMessage({ message, level: 3, timestamp: "t" });
      expect(response.success).toBe(true);
      acknowledged.push(message);
    }
  };
  const requests: LogRequest[] = Array.from({ length: STREAM_RECORDS }, (_, i) => ({ message: `streamed ${i}`, timestamp: "t" }));
  const [summary] = await Promise.all([streaming.logStream(requests), ...Array.from({ length: CONCURRENCY }, worker)]);

  // No chance to flush anything on the way out.
  server.kill("SIGKILL");
  await server.exited;
  unary.close();
  streaming.close();

  const inFile = new Set(server.logLines().map(lineMessage));
  expect(acknowledged).toHaveLength(CALLS);
  expect(acknowledged.filter((message) => !inFile.has(message))).toEqual([]);
  expect(summary.accepted).toBe(STREAM_RECORDS);
  expect(requests.filter((r) => !inFile.has(r.message!)).map((r) => r.message)).toEqual([]);
}, 120_000);
