import { describe, expect, test } from "bun:test";
import { Message } from "capnp-es";
import { HelloMsg } from "../../src/capnp/hello.ts";
import { DecodeError } from "../../src/decode/decode-error.ts";
import { decodeHelloFrame, isUnpackedHello } from "../../src/decode/hello-msg.ts";
import { buildWithCapnpEs, Rng } from "./support.ts";

function helloFrame(fill: (h: HelloMsg) => void): Uint8Array {
  const m = new Message();
  fill(m.initRoot(HelloMsg));
  return new Uint8Array(m.toArrayBuffer());
}

describe("hello handshake", () => {
  test("decodes all five fields; unset fields are empty", () => {
    const frame = helloFrame((h) => {
      h.fromName = "svc";
      h.fromHost = "höst";
      h.toAddress = "10.1.1.1:9020";
    });
    expect(isUnpackedHello(frame, 0, frame.length)).toBe(true);
    expect(decodeHelloFrame(frame, 0, frame.length)).toEqual({
      fromName: "svc", fromHost: "höst", fromAddress: "", toAddress: "10.1.1.1:9020", fromPublicIP: "",
    });
  });

  test("works at an unaligned offset inside a larger buffer", () => {
    const frame = helloFrame((h) => (h.fromName = "x"));
    const buf = new Uint8Array(frame.length + 3);
    buf.set(frame, 3);
    expect(decodeHelloFrame(buf, 3, buf.length).fromName).toBe("x");
  });

  test("packed log frames are never taken for a hello", () => {
    const rng = new Rng(11);
    for (let i = 0; i < 500; i++) {
      const { packed } = buildWithCapnpEs(rng);
      expect(isUnpackedHello(packed, 0, packed.length)).toBe(false);
    }
    expect(isUnpackedHello(new Uint8Array([0, 0, 0]), 0, 3)).toBe(false);
    expect(isUnpackedHello(new Uint8Array([9, 0, 0, 0, 0]), 1, 5)).toBe(true);
  });

  test("bad frames throw DecodeError", () => {
    const frame = helloFrame((h) => (h.fromName = "abc"));
    for (const bad of [frame.subarray(0, frame.length - 8), frame.subarray(0, frame.length - 3), new Uint8Array(4)]) {
      expect(() => decodeHelloFrame(bad, 0, bad.length)).toThrow(DecodeError);
    }
  });
});
