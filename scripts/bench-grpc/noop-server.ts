// Baselines for scripts/bench-grpc.ts: grpc-js servers on the same Bun whose handlers do nothing but
// answer. Prints "listening on <port>".
//   bun scripts/bench-grpc/noop-server.ts          plain: what an ordinary grpc-js user writes
//                                                  (proto-loader objects, default server options)
//   bun scripts/bench-grpc/noop-server.ts --tuned  the framework floor of the log server: its server
//                                                  options and codecs (raw request bytes, constant
//                                                  answer), no decoding, no file
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { logServiceCodec } from "../../src/grpc/log-service.ts";
import { serviceDefinition } from "../../src/grpc/proto.ts";
import { GRPC_SERVER_OPTIONS } from "../../src/grpc/server-options.ts";

const tuned = process.argv.includes("--tuned");

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

const server = new grpc.Server(tuned ? GRPC_SERVER_OPTIONS : undefined);
if (tuned) {
  for (const name of ["logservice.LogService", "logservice.LogBridge"]) server.addService(serviceDefinition(name, logServiceCodec), handlers);
} else {
  const proto = path.resolve(import.meta.dir, "../../proto/log_service.proto");
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const logservice = (grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: true })) as any).logservice;
  server.addService(logservice.LogService.service, handlers);
  server.addService(logservice.LogBridge.service, handlers);
}
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(`listening on ${port}`);
});
process.on("SIGTERM", () => server.forceShutdown());
