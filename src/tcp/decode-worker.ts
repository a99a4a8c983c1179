// Decode worker: decodes and formats TCP reads off the main thread. Each connection is handled by one
// worker, in order, so a connection's records keep their order; the main thread numbers the lines.
import { ChunkDecoder } from "./chunk-decoder.ts";
import type { DecodeRequest, DecodeResponse } from "./decode-protocol.ts";

declare const self: Worker;

const decoders = new Map<number, ChunkDecoder>();

self.onmessage = (event: MessageEvent<DecodeRequest>) => {
  const request = event.data;
  if (request.kind === "end") {
    decoders.delete(request.connection);
    return;
  }
  let decoder = decoders.get(request.connection);
  if (decoder === undefined) {
    decoder = new ChunkDecoder();
    decoders.set(request.connection, decoder);
  }
  const response: DecodeResponse = { ...decoder.decode(request.bytes), connection: request.connection, requestBytes: request.bytes.length };
  self.postMessage(response, { transfer: [response.bodies.buffer as ArrayBuffer, response.ends.buffer as ArrayBuffer] });
};
