// AckQueue: answers go out once the writer's settled sequence covers them, in one pass per batch.
import { describe, expect, test } from "bun:test";
import { status } from "@grpc/grpc-js";
import { AckQueue } from "../../src/grpc/acks.ts";
import { grpcError } from "../../src/grpc/status.ts";

function recorder() {
  const answered: Array<[string, unknown]> = [];
  const callback = (name: string) => (error: unknown, value?: unknown) => answered.push([name, error ?? value]);
  return { answered, callback };
}

describe("AckQueue", () => {
  test("answers nothing before its sequence is written, then everything covered at once", () => {
    const acks = new AckQueue(-1);
    const { answered, callback } = recorder();
    for (let sequence = 0; sequence < 5; sequence++) acks.resolveWhenWritten(sequence, callback(`#${sequence}`), sequence);
    expect(answered).toEqual([]);
    acks.settle(2);
    expect(answered).toEqual([["#0", 0], ["#1", 1], ["#2", 2]]);
    expect(acks.pending).toBe(2);
    acks.settle(10);
    expect(answered.map(([name]) => name)).toEqual(["#0", "#1", "#2", "#3", "#4"]);
    expect(acks.pending).toBe(0);
  });

  test("a sequence already written is answered immediately", () => {
    const acks = new AckQueue(7);
    const { answered, callback } = recorder();
    acks.resolveWhenWritten(7, callback("old"), "ok");
    expect(answered).toEqual([["old", "ok"]]);
  });

  test("a later-queued lower sequence (a stream ending) waits for the highest queued one, keeping order", () => {
    const acks = new AckQueue(-1);
    const { answered, callback } = recorder();
    acks.resolveWhenWritten(10, callback("unary 10"), 1);
    acks.resolveWhenWritten(6, callback("stream ending at 6"), 2);
    acks.settle(6);
    expect(answered).toEqual([]);
    acks.settle(10);
    expect(answered.map(([name]) => name)).toEqual(["unary 10", "stream ending at 6"]);
  });

  test("a rejection is delivered as the error, after the records before it are written", () => {
    const acks = new AckQueue(-1);
    const { answered, callback } = recorder();
    const error = grpcError(status.INVALID_ARGUMENT, "bad #3");
    acks.rejectWhenWritten(2, callback("stream"), error);
    acks.settle(1);
    expect(answered).toEqual([]);
    acks.settle(2);
    expect(answered).toEqual([["stream", error]]);
  });

  test("a throwing callback is reported and does not stop the others", () => {
    const errors: unknown[] = [];
    const acks = new AckQueue(-1, (error) => errors.push(error));
    const { answered, callback } = recorder();
    acks.resolveWhenWritten(0, () => {
      throw new Error("boom");
    }, null);
    acks.resolveWhenWritten(1, callback("next"), "ok");
    acks.settle(1);
    expect(errors).toHaveLength(1);
    expect(answered).toEqual([["next", "ok"]]);
  });

  test("stays correct across many batches (compaction)", () => {
    const acks = new AckQueue(-1);
    let answered = 0;
    let sequence = 0;
    for (let batch = 0; batch < 50; batch++) {
      for (let i = 0; i < 1000; i++) acks.resolveWhenWritten(sequence++, () => answered++, null);
      acks.settle(sequence - 300); // leave some behind each time
    }
    expect(answered).toBe(sequence - 299);
    acks.settle(sequence);
    expect(answered).toBe(sequence);
    expect(acks.pending).toBe(0);
  });
});
