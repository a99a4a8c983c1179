// The decode worker's logic, run in-thread: frames across reads, numbering, the handshake, and the first bad frame.
import { describe, expect, test } from "bun:test";
import { Sequencer } from "../../src/pipeline/sequencer.ts";
import { ChunkDecoder, type DecodedChunk } from "../../src/tcp/chunk-decoder.ts";
import { concat, HEARTBEAT, helloFrame, logFrame } from "../support/frames.ts";

const text = (chunk: DecodedChunk) => new TextDecoder().decode(chunk.lines).split("\n").filter((line) => line !== "");
const record = (n: number) => logFrame({ timestamp: "t", hostname: "h", level: 3, message: `record ${n}` });
const decoder = (next = 0) => new ChunkDecoder(Sequencer.startingAt(next));

describe("ChunkDecoder", () => {
  test("complete numbered lines; ends mark each one", () => {
    const chunk = decoder(100).decode(concat([record(0), HEARTBEAT, record(1)]));
    expect(text(chunk)).toEqual([expect.stringMatching(/^100 {8}t +h +- +INFO +- +- +- +record 0$/), expect.stringMatching(/^101 .*record 1$/)]);
    expect(chunk.first).toBe(100);
    expect(Array.from(chunk.ends)).toEqual([chunk.lines.indexOf(0x0a) + 1, chunk.lines.length]);
    expect(chunk.sawFirstFrame).toBe(true);
    expect(chunk.rejection).toBeNull();
  });

  test("reads take consecutive ranges of the shared counter, shared with other takers", () => {
    const sequencer = Sequencer.startingAt(7);
    const a = new ChunkDecoder(sequencer);
    const b = new ChunkDecoder(sequencer);
    expect(a.decode(concat([record(0), record(1)])).first).toBe(7);
    expect(sequencer.take()).toBe(9); // e.g. a gRPC record in between
    expect(b.decode(record(2)).first).toBe(10);
    expect(a.decode(HEARTBEAT).ends.length).toBe(0);
    expect(sequencer.peek()).toBe(11); // a read without records takes no number
  });

  test("numbers wider than the column are written whole", () => {
    const chunk = decoder(9_999_999_999).decode(concat([record(0), record(1)]));
    expect(text(chunk)).toEqual([expect.stringMatching(/^9999999999 t +h /), expect.stringMatching(/^10000000000 t +h /)]);
    expect(chunk.ends[1]).toBe(chunk.lines.length);
  });

  test("a frame split across reads comes out in the read that completes it", () => {
    const d = decoder();
    const bytes = concat([record(0), record(1)]);
    const cut = record(0).length + 7;
    expect(text(d.decode(bytes.subarray(0, cut)))).toHaveLength(1);
    expect(d.midFrame).toBe(true);
    expect(text(d.decode(bytes.subarray(cut)))).toEqual([expect.stringMatching(/^1 .*record 1$/)]);
    expect(d.midFrame).toBe(false);
  });

  test("the handshake identity is reported once, by the read that carried it", () => {
    const d = decoder();
    const first = d.decode(concat([helloFrame("orders", "gw-7"), record(0)]));
    expect(first.identity).toBe("orders@gw-7");
    expect(text(first)).toHaveLength(1);
    expect(d.decode(record(1)).identity).toBeNull();
  });

  test("a heartbeat alone satisfies the first-frame rule", () => {
    expect(decoder().decode(HEARTBEAT).sawFirstFrame).toBe(true);
    expect(decoder().decode(new Uint8Array([0, 0])).sawFirstFrame).toBe(false);
  });

  test("the first bad frame is reported with its number; records before it are kept, nothing after is decoded", () => {
    const d = decoder();
    const chunk = d.decode(concat([record(0), record(1), new Uint8Array([0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]), record(2)]));
    expect(text(chunk)).toHaveLength(2);
    expect(chunk.rejection).toMatchObject({ frame: 3 });
    expect(chunk.rejection?.reason).not.toBe("internal");
    const later = d.decode(record(3));
    expect(later.ends.length).toBe(0);
    expect(later.rejection).toBeNull();
  });
});
