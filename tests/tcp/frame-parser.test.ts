import { describe, expect, test } from "bun:test";
import { FrameError, type FrameHandler, FrameParser } from "../../src/tcp/frame-parser.ts";
import { concat, frame, HEARTBEAT } from "../support/frames.ts";

/** Records every frame as a copy, plus heartbeats, so tests can compare what was delivered. */
class Recorder implements FrameHandler {
  frames: number[][] = [];
  heartbeats = 0;
  onFrame(bytes: Uint8Array, start: number, end: number): void {
    this.frames.push(Array.from(bytes.subarray(start, end)));
  }
  onHeartbeat(): void {
    this.heartbeats++;
  }
}

const payloads = [new Uint8Array([1]), new Uint8Array([2, 3, 4, 5, 6]), new Uint8Array(300).fill(7), new Uint8Array([8, 9])];
const stream = concat([frame(payloads[0]), HEARTBEAT, frame(payloads[1]), HEARTBEAT, HEARTBEAT, frame(payloads[2]), frame(payloads[3]), HEARTBEAT]);
const expected = payloads.map((p) => Array.from(p));

function feed(chunks: Uint8Array[]): Recorder {
  const recorder = new Recorder();
  const parser = new FrameParser(recorder);
  for (const chunk of chunks) parser.push(chunk);
  expect(parser.midFrame).toBe(false);
  return recorder;
}

describe("FrameParser", () => {
  test("many frames and heartbeats in one read", () => {
    const recorder = feed([stream]);
    expect(recorder.frames).toEqual(expected);
    expect(recorder.heartbeats).toBe(4);
  });

  test("split into two reads at every byte offset", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const recorder = feed([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(recorder.frames).toEqual(expected);
      expect(recorder.heartbeats).toBe(4);
    }
  });

  test("one byte per read", () => {
    const chunks = Array.from(stream, (_, i) => stream.subarray(i, i + 1));
    const recorder = feed(chunks);
    expect(recorder.frames).toEqual(expected);
  });

  test("split into three reads at many offset pairs", () => {
    for (let a = 0; a < stream.length; a += 7) {
      for (let b = a; b <= stream.length; b += 13) {
        const recorder = feed([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
        expect(recorder.frames).toEqual(expected);
      }
    }
  });

  test("complete frames are views of the read, not copies", () => {
    const views: Uint8Array[] = [];
    const parser = new FrameParser({ onFrame: (bytes) => views.push(bytes), onHeartbeat() {} });
    parser.push(stream);
    for (const view of views) expect(view).toBe(stream);
  });

  test("a length over the limit is rejected after earlier frames were delivered", () => {
    const recorder = new Recorder();
    const parser = new FrameParser(recorder, 1000);
    const oversize = new Uint8Array([0, 0, 0x03, 0xe9]); // 1001
    expect(() => parser.push(concat([frame(payloads[0]), oversize, frame(payloads[1])]))).toThrow(FrameError);
    expect(recorder.frames).toEqual([expected[0]]);
  });

  test("the default limit is the original 10 MiB", () => {
    const parser = new FrameParser(new Recorder());
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 10 * 1024 * 1024 + 1);
    expect(() => parser.push(header)).toThrow(/over the 10485760-byte limit/);
    const ok = new FrameParser(new Recorder());
    new DataView(header.buffer).setUint32(0, 10 * 1024 * 1024);
    ok.push(header);
    expect(ok.midFrame).toBe(true);
  });

  test("frames counts delivered frames, not heartbeats", () => {
    const parser = new FrameParser(new Recorder());
    parser.push(stream);
    expect(parser.frames).toBe(4);
  });
});
