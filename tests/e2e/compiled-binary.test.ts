// The executable users copy to hosts: started from another directory, it takes concurrent TCP clients
// and writes every record once, in order, with its default log dir beside the executable.
import { afterEach, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import path from "node:path";
import { compiledBinary } from "../support/compiled-binary.ts";
import { concat, logFrame } from "../support/frames.ts";
import { type ServerProcess, sendTcp, startAndStop, startServer, tempDir } from "../support/server-process.ts";
import { checkNumberedRecords } from "../support/numbered-records.ts";

let server: ServerProcess | null = null;
afterEach(async () => {
  if (server) expect(await server.stop()).toBe(0);
  server = null;
});

test("compiled binary: concurrent TCP connections from another working directory", async () => {
  server = await startServer({ executable: await compiledBinary(), cwd: tempDir("log_server-cwd-") });
  const connections = 4;
  const perConnection = 500;
  await Promise.all(
    Array.from({ length: connections }, (_, conn) =>
      sendTcp(server!.tcpPort, concat(Array.from({ length: perConnection }, (_, n) => logFrame({ level: 6, message: `conn=${conn} n=${n}` })))),
    ),
  );
  checkNumberedRecords(await server.waitForLines(connections * perConnection), connections, perConnection);
}, 120_000);

test("compiled binary: default log dir is logs/ beside the executable", async () => {
  const executable = await compiledBinary();
  const { stdout: out, exitCode } = await startAndStop([executable, "--port", "0", "--tcp_only", "--metrics_port", "0"], tempDir("log_server-cwd-"));
  expect(exitCode).toBe(0);
  const expected = path.join(path.dirname(executable), "logs", "_main.log");
  expect(out).toContain(`writing to ${expected}`);
  expect(existsSync(expected)).toBe(true);
}, 120_000);
