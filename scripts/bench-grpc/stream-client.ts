// LogStream load for scripts/bench-grpc.ts, run as its own process: STREAMS concurrent LogStream
// calls (each on its own connection) of RECORDS pre-encoded LogRequests each, written as fast as
// grpc-js takes them. Prints one JSON line: { records, seconds, summaries }.
//   bun scripts/bench-grpc/stream-client.ts PORT STREAMS RECORDS REQUEST_FILE
import * as grpc from "@grpc/grpc-js";

const [port, streams, records] = process.argv.slice(2, 5).map(Number);
const framed = await Bun.file(process.argv[5]).bytes();
const request = Buffer.from(framed.subarray(5)); // the file holds one gRPC-framed LogRequest

// Requests are sent as the bytes they already are; answers are read with a tiny decoder below.
const raw = (bytes: Buffer) => bytes;
const Client = grpc.makeGenericClientConstructor(
  {
    LogStream: {
      path: "/logservice.LogService/LogStream",
      requestStream: true,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  },
  "LogService",
);

/** LogStreamSummary: three uint64 varints (fields 1..3). */
function decodeSummary(bytes: Buffer): Record<string, number> {
  const out: Record<string, number> = { accepted: 0, first_sequence: 0, last_sequence: 0 };
  const names = ["", "accepted", "first_sequence", "last_sequence"];
  let pos = 0;
  while (pos < bytes.length) {
    const field = bytes[pos++] >> 3;
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = bytes[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
    }
    out[names[field]] = value;
  }
  return out;
}

const options = {
  "grpc.use_local_subchannel_pool": 1,
  // Without this grpc-js buffers every message of the call for retries and rescans the buffer per
  // message (quadratic); with it, writes wait for the transport.
  "grpc.per_rpc_retry_buffer_size": 0,
};

function stream(): Promise<Record<string, number>> {
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  return new Promise((resolve, reject) => {
    const call = client.LogStream((error: grpc.ServiceError | null, summary: Buffer) => {
      client.close();
      if (error) reject(error);
      else resolve(decodeSummary(summary));
    });
    let sent = 0;
    const pump = () => {
      while (sent < records) {
        sent++;
        if (!call.write(request)) {
          call.once("drain", pump);
          return;
        }
      }
      call.end();
    };
    pump();
  });
}

const started = performance.now();
const summaries = await Promise.all(Array.from({ length: streams }, stream));
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ records: streams * records, seconds, summaries }));
