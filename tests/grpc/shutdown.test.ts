// Stopping with gRPC clients connected, a port already in use, and --tcp_only.
import { expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { REPO, startServer, tempDir } from "../support/server-process.ts";
import { health, lineMessage, LogClient, startGrpcServer } from "./support.ts";

test("SIGTERM: every acknowledged record is written, nothing unacknowledged is, refusals are UNAVAILABLE", async () => {
  const server = await startGrpcServer();
  const client = new LogClient(server.grpcPort);
  await client.logMessage({ message: "warm-up" }); // connected before the burst

  // A watcher, which must hear NOT_SERVING and then see its stream end.
  const watcher = new health.Health(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const statuses: number[] = [];
  const watchEnded = new Promise<void>((resolve) => {
    const call = watcher.Watch({ service: "" });
    call.on("data", (response: { status: number }) => statuses.push(response.status));
    call.on("error", () => resolve());
    call.on("end", () => resolve());
  });
  await server.waitFor(() => statuses.length > 0, "the first health status");

  // A stream left open when the server stops.
  let streamOutcome: grpc.ServiceError | null = null;
  const openStream = new Promise<void>((resolve) => {
    const call = client.client.LogStream((error: grpc.ServiceError | null) => {
      streamOutcome = error;
      resolve();
    }) as grpc.ClientWritableStream<object>;
    for (let i = 0; i < 10; i++) call.write({ message: `open stream ${i}`, timestamp: "t" });
  });
  await server.waitFor(() => server.logLines().some((line) => lineMessage(line) === "open stream 9"), "the open stream's records");

  // 50 callers calling continuously; SIGTERM once 1000 calls succeeded, then each caller stops at its first refusal.
  const results: Array<{ message: string; outcome: "ok" | string }> = [];
  let sent = 0;
  const caller = async () => {
    for (;;) {
      const message = `call ${sent++}`;
      try {
        await client.logMessage({ message, timestamp: "t" });
        results.push({ message, outcome: "ok" });
      } catch (error) {
        results.push({ message, outcome: grpc.status[(error as grpc.ServiceError).code] });
        return;
      }
    }
  };
  const callers = Promise.all(Array.from({ length: 50 }, caller));
  await server.waitFor(() => results.length >= 1000, "1000 answered calls");
  server.kill("SIGTERM");
  await callers;
  expect(await server.exited).toBe(0);
  await openStream;
  await watchEnded;
  client.close();
  watcher.close();

  const written = new Set(server.logLines().map(lineMessage));
  const refused = results.filter((r) => r.outcome !== "ok");
  expect(refused).toHaveLength(50);
  expect(new Set(refused.map((r) => r.outcome))).toEqual(new Set(["UNAVAILABLE"]));
  expect(refused.filter((r) => written.has(r.message))).toEqual([]);
  const acknowledged = results.filter((r) => r.outcome === "ok");
  expect(acknowledged.filter((r) => !written.has(r.message))).toEqual([]);
  // Nothing was written that its caller was not told about.
  expect([...written].filter((m) => m.startsWith("call ")).length).toBe(acknowledged.length);
  expect(statuses).toEqual([1, 2]); // SERVING, then NOT_SERVING
  expect(streamOutcome).not.toBeNull();
  expect(streamOutcome!.code).toBe(grpc.status.UNAVAILABLE);
  expect(streamOutcome!.details).toContain("the 10 records before it were accepted and are written");
  expect(server.stdout).toContain("stopped; last written sequence is");
  expect(server.stderr).toBe(""); // e.g. no connections left to force-close
}, 60_000);

test("a gRPC port in use: exit 1 with one sentence naming the address", async () => {
  const first = await startGrpcServer();
  const proc = Bun.spawn(
    [process.execPath, "run", `${REPO}/src/main.ts`, "--port", "0", "--grpc_port", String(first.grpcPort), "--log_dir", tempDir()],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(1);
  expect(stderr.trim().split("\n")).toHaveLength(1);
  expect(stderr).toMatch(new RegExp(`^LogServer : error: cannot listen for gRPC on 127\\.0\\.0\\.1:${first.grpcPort} \\(.*EADDRINUSE.*\\)\\.\\n$`));
  expect(await first.stop()).toBe(0);
});

test("--tcp_only starts no gRPC server", async () => {
  const server = await startServer({ tcpOnly: true });
  expect(server.stdout).not.toContain("gRPC");
  expect(server.grpcPort).toBe(0);
  expect(await server.stop()).toBe(0);
});
