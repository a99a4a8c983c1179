// Handshake decoder: the optional first TCP frame of newer clients is an UNPACKED Cap'n Proto message
// whose root is HelloMsg (schema/hello.capnp: five Text pointers, no data). Runs once per connection,
// so it may allocate (a copy of the frame, strings).

import { MessageReader } from "./message-reader.ts";
import { Scratch } from "./packed.ts";

export interface HelloInfo {
  fromName: string;
  fromHost: string;
  fromAddress: string;
  toAddress: string;
  fromPublicIP: string;
}

const HELLO_FIELDS = ["fromName", "fromHost", "fromAddress", "toAddress", "fromPublicIP"] as const;

// Not fatal: a client identity with bad UTF-8 is still worth showing (with U+FFFD), like capnp-es does.
const utf8 = new TextDecoder();

/**
 * True when the frame starts with four zero bytes: an unpacked single-segment message (segment
 * count - 1 = 0). A valid packed message never starts so: it would describe an empty first segment.
 */
export function isUnpackedHello(payload: Uint8Array, start: number, end: number): boolean {
  return end - start >= 4 && payload[start] === 0 && payload[start + 1] === 0 && payload[start + 2] === 0 && payload[start + 3] === 0;
}

/** Decode the unpacked HelloMsg in `payload[start, end)`. Throws DecodeError on bad input. */
export function decodeHelloFrame(payload: Uint8Array, start: number, end: number): HelloInfo {
  // Copy to a fresh word-aligned buffer: the reader needs the message at offset 0 of a Scratch.
  const scratch = new Scratch(end - start);
  scratch.bytes.set(payload.subarray(start, end));
  const r = new MessageReader();
  r.load(scratch, end - start);
  r.readRootStruct();
  const out = {} as HelloInfo;
  for (let i = 0; i < HELLO_FIELDS.length; i++) {
    r.readStructText(i);
    out[HELLO_FIELDS[i]] = utf8.decode(r.bytes.subarray(r.textStart, r.textStart + r.textLength));
  }
  return out;
}
