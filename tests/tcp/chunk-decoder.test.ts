// The decode worker's logic, run in-thread: frames across reads, the handshake, and the first bad frame.
import { describe, expect, test } from "bun:test";
import { ChunkDecoder, type DecodedChunk } from "../../src/tcp/chunk-decoder.ts";
import { concat, HEARTBEAT, helloFrame, logFrame } from "../support/frames.ts";

const text = (chunk: DecodedChunk) => new TextDecoder().decode(chunk.bodies).split("\n").filter((line) => line !== "");
const record = (n: number) => logFrame({ timestamp: "t", hostname: "h", level: 3, message: `record ${n}` });

describe("ChunkDecoder", () => {
  test("bodies start at the timestamp column and end with a newline; ends mark each one", () => {
    const decoder = new ChunkDecoder();
    const chunk = decoder.decode(concat([record(0), HEARTBEAT, record(1)]));
    expect(text(chunk)).toEqual([expect.stringMatching(/^t +h +- +INFO +- +- +- +record 0$/), expect.stringMatching(/record 1$/)]);
    expect(Array.from(chunk.ends)).toEqual([chunk.bodies.indexOf(0x0a) + 1, chunk.bodies.length]);
    expect(chunk.sawFirstFrame).toBe(true);
    expect(chunk.rejection).toBeNull();
  });

  test("a frame split across reads comes out in the read that completes it", () => {
    const decoder = new ChunkDecoder();
    const bytes = concat([record(0), record(1)]);
    const cut = record(0).length + 7;
    const first = decoder.decode(bytes.subarray(0, cut));
    expect(text(first)).toHaveLength(1);
    expect(decoder.midFrame).toBe(true);
    const second = decoder.decode(bytes.subarray(cut));
    expect(text(second)).toEqual([expect.stringMatching(/record 1$/)]);
    expect(decoder.midFrame).toBe(false);
  });

  test("the handshake identity is reported once, by the read that carried it", () => {
    const decoder = new ChunkDecoder();
    const first = decoder.decode(concat([helloFrame("orders", "gw-7"), record(0)]));
    expect(first.identity).toBe("orders@gw-7");
    expect(text(first)).toHaveLength(1);
    expect(decoder.decode(record(1)).identity).toBeNull();
  });

  test("a heartbeat alone satisfies the first-frame rule", () => {
    expect(new ChunkDecoder().decode(HEARTBEAT).sawFirstFrame).toBe(true);
    expect(new ChunkDecoder().decode(new Uint8Array([0, 0])).sawFirstFrame).toBe(false);
  });

  test("the first bad frame is reported with its number; records before it are kept, nothing after is decoded", () => {
    const decoder = new ChunkDecoder();
    const chunk = decoder.decode(concat([record(0), record(1), new Uint8Array([0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]), record(2)]));
    expect(text(chunk)).toHaveLength(2);
    expect(chunk.rejection).toMatchObject({ frame: 3 });
    expect(chunk.rejection?.reason).not.toBe("internal");
    const later = decoder.decode(record(3));
    expect(later.ends.length).toBe(0);
    expect(later.rejection).toBeNull();
  });
});
