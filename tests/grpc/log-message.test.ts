// LogMessage against the real server: both service names, every field to the file, every level,
// refusals with the right status, a 1 MiB message.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { status } from "@grpc/grpc-js";
import type { ServerProcess } from "../support/server-process.ts";
import { expectStatus, lineMessage, lineSequence, LogClient, type LogRequest, type ServiceName, startGrpcServer } from "./support.ts";

const LEVELS = ["NOTSET", "DEBUG", "STREAM", "INFO", "LOGON", "LOGOUT", "TRADE", "SCHEDULE", "REPORT", "WARNING", "ERROR", "CRITICAL"];

let server: ServerProcess;
const clients: Partial<Record<ServiceName, LogClient>> = {};
const client = (name: ServiceName = "LogService") => (clients[name] ??= new LogClient(server.grpcPort, name));

beforeAll(async () => {
  server = await startGrpcServer();
});

afterAll(async () => {
  for (const c of Object.values(clients)) c?.close();
  expect(await server.stop()).toBe(0);
});

/** The line of the record whose message is `message` (messages are unique per test). */
function lineWith(message: string): string {
  const lines = server.logLines().filter((line) => lineMessage(line).startsWith(message));
  expect(lines).toHaveLength(1);
  return lines[0];
}

const ALL_FIELDS: Required<LogRequest> = {
  timestamp: "2026-05-18T10:00:00.123456789Z",
  hostname: "host-01",
  logger_name: "app.orders",
  module: "orders.py",
  level: 9,
  filename: "orders.py",
  function_name: "place_order",
  line_number: "217",
  message: "order 42 rejected: price ≥ limit",
  path_name: "/srv/app/orders.py",
  process_id: "4242",
  process_name: "worker-3",
  thread_id: "140001",
  thread_name: "MainThread",
  service_name: "orders",
  stack_trace: "Traceback (most recent call last):\n  File \"orders.py\", line 217",
};

describe.each(["LogService", "LogBridge"] as const)("%s.LogMessage", (name) => {
  test("answers success only with the record in the file, every field in place", async () => {
    const request = { ...ALL_FIELDS, message: `${ALL_FIELDS.message} via ${name}` };
    expect(await client(name).logMessage(request)).toEqual({ success: true });
    // Acknowledged means written: the line is there the moment the answer arrives.
    const line = lineWith(request.message);
    expect(line.slice(11)).toBe(
      "2026-05-18T10:00:00.123456789Z host-01         app.orders      WARNING  orders.py       place_order     217   " +
        `order 42 rejected: price ≥ limit via ${name}` +
        " [metadata: mod=orders.py path=/srv/app/orders.py pid=4242 pname=worker-3 tid=140001 tname=MainThread svc=orders" +
        ' stack=Traceback (most recent call last):\\n  File "orders.py", line 217]',
    );
  });

  test("writes every level 0..11 by name", async () => {
    for (let level = 0; level < LEVELS.length; level++) {
      const message = `${name} level ${level}`;
      await client(name).logMessage({ message, level, timestamp: "t" });
      expect(lineWith(message).split(/ +/)[4]).toBe(LEVELS[level]);
    }
  });

  test("refuses level 12 with INVALID_ARGUMENT saying why, and writes nothing", async () => {
    const before = server.logLines().length;
    const error = await expectStatus(client(name).logMessage({ message: `${name} level 12`, level: 12 }), status.INVALID_ARGUMENT);
    expect(error.details).toContain("level 12 is not a Level");
    await client(name).logMessage({ message: `${name} after level 12` });
    const lines = server.logLines();
    expect(lines.length).toBe(before + 1);
    // The refused request took no sequence number: no gap.
    expect(lineSequence(lines.at(-1)!)).toBe(lineSequence(lines.at(-2)!) + 1);
  });
});

test("a minimal request: empty fields are written as '-', an empty timestamp as the receive time", async () => {
  await client().logMessage({ message: "minimal request" });
  const columns = lineWith("minimal request").split(/ +/);
  expect(columns[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6,9}Z$/);
  expect(columns.slice(2, 8)).toEqual(["-", "-", "NOTSET", "-", "-", "-"]);
});

test("a 1 MiB message is written whole", async () => {
  const message = `big:${"x".repeat(1024 * 1024 - 4)}`;
  expect(await client().logMessage({ message, timestamp: "t" })).toEqual({ success: true });
  const line = lineWith("big:");
  expect(lineMessage(line)).toBe(message);
});

test("requests larger than 16 MiB are refused by the server with RESOURCE_EXHAUSTED", async () => {
  const error = await expectStatus(client().logMessage({ message: "y".repeat(17 * 1024 * 1024) }), status.RESOURCE_EXHAUSTED);
  expect(error.details).toMatch(/larger than max \(\d+ vs 16777216\)/);
  expect(await client().logMessage({ message: "still serving" })).toEqual({ success: true });
});

test("escapes control characters and keeps UTF-8 as sent", async () => {
  await client().logMessage({ message: "tab\there\r\nbell\u0007 back\\slash — 日本語 🚀", timestamp: "t" });
  expect(lineMessage(lineWith("tab"))).toBe("tab\there\\r\\nbell\\x07 back\\\\slash — 日本語 🚀");
});
