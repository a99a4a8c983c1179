// Decode worker: decodes and formats TCP reads off the main thread. Each connection is handled by one
// worker, in order, so a connection's records keep their order. Lines are numbered from the shared counter.
import { ChunkDecoder, OutputBuffers } from "./chunk-decoder.ts";
import { Sequencer } from "../pipeline/sequencer.ts";
import type { DecodeRequest, DecodeResponse } from "./decode-protocol.ts";

declare const self: Worker;

const decoders = new Map<number, ChunkDecoder>();
let sequencer: Sequencer | null = null;
const buffers = new OutputBuffers();

self.onmessage = (event: MessageEvent<DecodeRequest>) => {
  const request = event.data;
  if (request.kind === "init") {
    sequencer = new Sequencer(request.sequence);
    return;
  }
  if (request.kind === "recycle") {
    buffers.give(request.buffer);
    return;
  }
  if (request.kind === "end") {
    decoders.delete(request.connection);
    return;
  }
  let decoder = decoders.get(request.connection);
  if (decoder === undefined) {
    decoder = new ChunkDecoder(sequencer as Sequencer, buffers);
    decoders.set(request.connection, decoder);
  }
  const response: DecodeResponse = { ...decoder.decode(request.bytes), connection: request.connection, requestBytes: request.bytes.length };
  self.postMessage(response, { transfer: [response.lines.buffer as ArrayBuffer, response.ends.buffer as ArrayBuffer] });
};
