// grpc.health.v1.Health and server reflection (v1 and v1alpha) through a plain grpc-js client.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import descriptor from "protobufjs/ext/descriptor";
import type { ServerProcess } from "../support/server-process.ts";
import { health, reflectionV1, reflectionV1alpha, startGrpcServer } from "./support.ts";

let server: ServerProcess;
const clients: grpc.Client[] = [];
const address = () => `127.0.0.1:${server.grpcPort}`;

beforeAll(async () => {
  server = await startGrpcServer();
});

afterAll(async () => {
  for (const client of clients) client.close();
  expect(await server.stop()).toBe(0);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function client(Service: any): any {
  const c = new Service(address(), grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

function check(service: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) =>
    client(health.Health).Check({ service }, (error: grpc.ServiceError | null, response: { status: number }) => (error ? reject(error) : resolve(response))),
  );
}

test.each(["", "logservice.LogService", "logservice.LogBridge"])("Check(%p) is SERVING", async (service) => {
  expect(await check(service)).toEqual({ status: 1 });
});

test("Check of an unknown service is NOT_FOUND", async () => {
  await expect(check("logservice.Nope")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
});

test("Watch sends SERVING at once; an unknown service gets SERVICE_UNKNOWN", async () => {
  const first = (service: string) =>
    new Promise<number>((resolve, reject) => {
      const call = client(health.Health).Watch({ service });
      call.on("data", (response: { status: number }) => {
        resolve(response.status);
        call.cancel();
      });
      call.on("error", (error: grpc.ServiceError) => {
        if (error.code !== grpc.status.CANCELLED) reject(error);
      });
    });
  expect(await first("")).toBe(1);
  expect(await first("logservice.LogBridge")).toBe(1);
  expect(await first("nope")).toBe(3);
});

/** Sends reflection requests on one ServerReflectionInfo stream and collects the answers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function reflect(pkg: any, requests: object[]): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const call = client(pkg.ServerReflection).ServerReflectionInfo();
    const answers: object[] = [];
    call.on("data", (answer: object) => answers.push(answer));
    call.on("end", () => resolve(answers));
    call.on("error", reject);
    for (const request of requests) call.write(request);
    call.end();
  });
}

test.each([
  ["v1", reflectionV1],
  ["v1alpha", reflectionV1alpha],
])("reflection %s lists the services and serves their descriptors", async (_, pkg) => {
  const [list, bySymbol, byMethod, byFile, missing] = await reflect(pkg, [
    { list_services: "" },
    { file_containing_symbol: "logservice.LogRequest" },
    { file_containing_symbol: "logservice.LogService.LogStream" },
    { file_by_filename: "grpc/health/v1/health.proto" },
    { file_containing_symbol: "logservice.Nope" },
  ]);
  expect(list.list_services_response.service.map((s: { name: string }) => s.name).sort()).toEqual([
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "logservice.LogBridge",
    "logservice.LogService",
  ]);

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const file = descriptor.FileDescriptorProto.decode(bySymbol.file_descriptor_response.file_descriptor_proto[0]) as any;
  expect(file.name).toBe("log_service.proto");
  expect(file.package).toBe("logservice");
  const logRequest = file.messageType.find((m: { name: string }) => m.name === "LogRequest");
  expect(logRequest.field.map((f: { name: string; number: number }) => `${f.name}=${f.number}`)).toEqual([
    "timestamp=1", "hostname=2", "logger_name=3", "module=4", "level=5", "filename=6", "function_name=7", "line_number=8",
    "message=9", "path_name=10", "process_id=11", "process_name=12", "thread_id=13", "thread_name=14", "service_name=15", "stack_trace=16",
  ]);
  const services = file.service.map((s: { name: string; method: Array<{ name: string; clientStreaming?: boolean }> }) => ({
    name: s.name,
    methods: s.method.map((m) => `${m.name}${m.clientStreaming ? " (client stream)" : ""}`),
  }));
  expect(services).toEqual([
    { name: "LogService", methods: ["LogMessage", "LogStream (client stream)"] },
    { name: "LogBridge", methods: ["LogMessage", "LogStream (client stream)"] },
  ]);

  expect(byMethod.file_descriptor_response.file_descriptor_proto).toHaveLength(1);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const healthFile = descriptor.FileDescriptorProto.decode(byFile.file_descriptor_response.file_descriptor_proto[0]) as any;
  expect(healthFile.package).toBe("grpc.health.v1");
  expect(missing.error_response.error_code).toBe(grpc.status.NOT_FOUND);
});
