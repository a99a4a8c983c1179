import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { MAX_BATCH_RECORDS } from "../../src/writer/ordered-writer.ts";
import { RotatingFile } from "../../src/writer/rotating-file.ts";
import { tempDir } from "../support/server-process.ts";
import { makeWriter, submit } from "../support/writer-harness.ts";

/** Deterministic shuffle (mulberry32) so a failure reproduces. */
function shuffled(values: number[], seed: number): number[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = values.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function openFile(dir = tempDir()) {
  const file = new RotatingFile(dir, "_main.log", 5);
  await file.open();
  return { dir, file };
}

describe("OrderedWriter", () => {
  test("writes shuffled sequences in order, each once", async () => {
    const { dir, file } = await openFile();
    const { writer } = makeWriter(file);
    const order = shuffled(Array.from({ length: 5000 }, (_, i) => i), 42);
    for (const sequence of order) submit(writer, sequence, `record ${sequence}`);
    await writer.close();
    const lines = readFileSync(path.join(dir, "_main.log"), "utf8").trimEnd().split("\n");
    expect(lines).toEqual(Array.from({ length: 5000 }, (_, i) => `record ${i}`));
    expect(writer.settled).toBe(4999);
  });

  test("shuffled across event-loop turns, with writes in between", async () => {
    const { dir, file } = await openFile();
    const { writer } = makeWriter(file);
    const order = shuffled(Array.from({ length: 3000 }, (_, i) => i), 7);
    for (let i = 0; i < order.length; i += 100) {
      for (const sequence of order.slice(i, i + 100)) submit(writer, sequence, `r${sequence}`);
      await Bun.sleep(1);
    }
    await writer.close();
    const lines = readFileSync(path.join(dir, "_main.log"), "utf8").trimEnd().split("\n");
    expect(lines).toEqual(Array.from({ length: 3000 }, (_, i) => `r${i}`));
  });

  test("batches stay within 1000 records and one write each", async () => {
    const { file } = await openFile();
    const { writer } = makeWriter(file);
    for (let i = 0; i < 20_000; i++) submit(writer, i, `line ${i}`);
    await writer.close();
    expect(writer.stats.recordsWritten).toBe(20_000);
    expect(writer.stats.batches).toBeGreaterThanOrEqual(20_000 / MAX_BATCH_RECORDS);
    expect(writer.stats.batches).toBeLessThan(2000); // never one write per record
  });

  test("a missing sequence is given up after the gap timeout with a marker line", async () => {
    const { dir, file } = await openFile();
    const { writer, ops } = makeWriter(file, { gapTimeoutMs: 150 });
    submit(writer, 0, "zero");
    submit(writer, 1, "one");
    submit(writer, 4, "four"); // 2 and 3 never come
    submit(writer, 5, "five");
    await Bun.sleep(50);
    expect(readFileSync(path.join(dir, "_main.log"), "utf8")).toBe("zero\none\n");
    await Bun.sleep(300);
    const lines = readFileSync(path.join(dir, "_main.log"), "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[2]).toMatch(/^2 +\S+ +\S+ +log_server +ERROR .*GAP: sequence 2\.\.3 never reached the writer within \d+ ms/);
    expect(lines.slice(3)).toEqual(["four", "five"]);
    expect(writer.stats.gaps).toBe(1);
    expect(ops.lines.some((line) => line.startsWith("error: sequence 2..3 never reached the writer"))).toBe(true);
    // A straggler that arrives after its gap was declared is still written, never dropped.
    submit(writer, 3, "three, late");
    await writer.close();
    expect(readFileSync(path.join(dir, "_main.log"), "utf8").trimEnd().split("\n").at(-1)).toBe("three, late");
    expect(writer.stats.lateRecords).toBe(1);
  });

  test("close declares open gaps at once and writes everything", async () => {
    const { dir, file } = await openFile();
    const { writer } = makeWriter(file, { gapTimeoutMs: 60_000 });
    submit(writer, 0, "a");
    submit(writer, 2, "c");
    await writer.close();
    const lines = readFileSync(path.join(dir, "_main.log"), "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("a");
    expect(lines[1]).toContain("GAP: sequence 1 never reached");
    expect(lines[2]).toBe("c");
  });

  test("settled advances once per batch and only after the bytes are in the file", async () => {
    const { dir, file } = await openFile();
    const { writer } = makeWriter(file);
    const seen: Array<[number, number]> = [];
    writer.onSettled((settled) => seen.push([settled, readFileSync(path.join(dir, "_main.log"), "utf8").split("\n").length - 1]));
    for (let i = 0; i < 2500; i++) submit(writer, i, `x${i}`);
    await writer.close();
    expect(seen.length).toBeGreaterThan(0);
    for (const [settled, linesOnDisk] of seen) expect(linesOnDisk).toBeGreaterThanOrEqual(settled + 1);
    expect(seen.at(-1)?.[0]).toBe(2499);
  });

  test("append mode: an existing file is never truncated", async () => {
    const dir = tempDir();
    await Bun.write(path.join(dir, "_main.log"), "old line\n");
    const { file } = await openFile(dir);
    const { writer } = makeWriter(file);
    submit(writer, 0, "new line");
    await writer.close();
    expect(readFileSync(path.join(dir, "_main.log"), "utf8")).toBe("old line\nnew line\n");
  });
});

describe("OrderedWriter.commitLines (blocks numbered by decode workers)", () => {
  const encoder = new TextEncoder();
  function block(first: number, count: number) {
    const lines = Array.from({ length: count }, (_, i) => `${first + i} line\n`);
    const bytes = encoder.encode(lines.join(""));
    let end = 0;
    const ends = Int32Array.from(lines, (line) => (end += line.length));
    return { bytes, ends };
  }

  test("blocks from several workers arrive out of order and are written in order, mixed with single lines", async () => {
    const { dir, file } = await openFile();
    const { writer } = makeWriter(file);
    const b1 = block(0, 3);
    const b2 = block(3, 4);
    const b3 = block(8, 2);
    writer.commitLines(8, b3.bytes, b3.ends);
    submit(writer, 7, "7 line");
    writer.commitLines(3, b2.bytes, b2.ends);
    writer.commitLines(0, b1.bytes, b1.ends);
    submit(writer, 10, "10 line");
    await writer.close();
    const lines = readFileSync(path.join(dir, "_main.log"), "utf8").trimEnd().split("\n");
    expect(lines).toEqual(Array.from({ length: 11 }, (_, i) => `${i} line`));
    expect(writer.settled).toBe(10);
  });

  test("an adopted block is split across a rotation at a line boundary", async () => {
    const dir = tempDir();
    const file = new RotatingFile(dir, "_main.log", 3);
    await file.open();
    const { writer } = makeWriter(file, { maxFileBytes: 20 });
    const b = block(0, 5); // "0 line\n" = 7 bytes: two lines per 20-byte file
    writer.commitLines(0, b.bytes, b.ends);
    await writer.close();
    expect(readFileSync(path.join(dir, "_main.log.1"), "utf8")).toBe("0 line\n1 line\n");
    expect(readFileSync(path.join(dir, "_main.log.0"), "utf8")).toBe("2 line\n3 line\n");
    expect(readFileSync(path.join(dir, "_main.log"), "utf8")).toBe("4 line\n");
  });
});
