// Baseline for scripts/bench-grpc.ts: a plain grpc-js server, the way an ordinary grpc-js user writes
// one (proto-loader from proto/log_service.proto, default server options), whose handlers do nothing
// but answer. Prints "listening on <port>".
//   bun scripts/bench-grpc/noop-server.ts
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const proto = path.resolve(import.meta.dir, "../../proto/log_service.proto");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const logservice = (grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: true })) as any).logservice;

const handlers: grpc.UntypedServiceImplementation = {
  LogMessage: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    callback(null, { success: true });
  },
  LogStream: (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    let accepted = 0;
    call.on("data", () => accepted++);
    call.on("end", () => callback(null, { accepted, first_sequence: 0, last_sequence: 0 }));
  },
};

const server = new grpc.Server();
server.addService(logservice.LogService.service, handlers);
server.addService(logservice.LogBridge.service, handlers);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(`listening on ${port}`);
});
process.on("SIGTERM", () => server.forceShutdown());
