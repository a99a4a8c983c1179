// A decode worker that dies on purpose: the real worker, except that a read containing the bytes
// "CRASHNOW" ends it with an uncaught error, as a decoder bug would.
import "../../src/tcp/decode-worker.ts";
import type { DecodeRequest } from "../../src/tcp/decode-protocol.ts";

declare const self: Worker;

const MARKER = new TextEncoder().encode("CRASHNOW");
const realHandler = self.onmessage as (event: MessageEvent<DecodeRequest>) => void;

function contains(bytes: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let k = 0; k < needle.length; k++) if (bytes[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

self.onmessage = (event: MessageEvent<DecodeRequest>) => {
  const request = event.data;
  if (request.kind === "data" && contains(request.bytes, MARKER)) throw new Error("injected decoder crash");
  realHandler(event);
};
