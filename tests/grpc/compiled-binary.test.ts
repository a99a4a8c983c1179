// The compiled executable serves gRPC with nothing beside it: the protos are embedded, and grpc-js
// works inside `bun build --compile` output (Bun has had regressions there: oven-sh/bun 20875, 29365).
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { compileLogServer } from "../../scripts/compile.ts";
import { type ServerProcess, tempDir } from "../support/server-process.ts";
import { health, lineMessage, LogClient, reflectionV1, startGrpcServer } from "./support.ts";

let server: ServerProcess;

beforeAll(async () => {
  const executable = await compileLogServer({ outfile: path.join(tempDir("log_server-bin-"), "log_server") });
  server = await startGrpcServer({ executable, cwd: tempDir("log_server-empty-cwd-") });
}, 120_000);

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

test("started from an empty directory, the binary takes unary and streamed records", async () => {
  const client = new LogClient(server.grpcPort, "LogBridge");
  expect(await client.logMessage({ message: "from the compiled binary", level: 3, timestamp: "t" })).toEqual({ success: true });
  const summary = await client.logStream([{ message: "streamed 0" }, { message: "streamed 1" }]);
  client.close();
  expect(summary.accepted).toBe(2);
  expect(server.logLines().map(lineMessage)).toEqual(["from the compiled binary", "streamed 0", "streamed 1"]);
});

test("health and reflection work in the binary", async () => {
  const healthClient = new health.Health(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const checked = await new Promise<{ status: number }>((resolve, reject) =>
    healthClient.Check({ service: "" }, (error: grpc.ServiceError | null, response: { status: number }) => (error ? reject(error) : resolve(response))),
  );
  healthClient.close();
  expect(checked.status).toBe(1);

  const reflection = new reflectionV1.ServerReflection(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  const answers = await new Promise<Array<{ list_services_response?: { service: Array<{ name: string }> }; file_descriptor_response?: { file_descriptor_proto: Buffer[] } }>>((resolve, reject) => {
    const call = reflection.ServerReflectionInfo();
    const out: never[] = [];
    call.on("data", (answer: never) => out.push(answer));
    call.on("end", () => resolve(out));
    call.on("error", reject);
    call.write({ list_services: "" });
    call.write({ file_containing_symbol: "logservice.LogService" });
    call.end();
  });
  reflection.close();
  expect(answers[0].list_services_response!.service.map((s) => s.name)).toContain("logservice.LogService");
  expect(answers[1].file_descriptor_response!.file_descriptor_proto[0].toString("latin1")).toContain("log_service.proto");
});
