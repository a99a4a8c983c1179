import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { RotatingFile } from "../../src/writer/rotating-file.ts";
import { tempDir } from "../support/server-process.ts";
import { allLines, makeWriter, submit } from "../support/writer-harness.ts";

const size = (dir: string, name: string) => statSync(path.join(dir, name)).size;

async function writeLines(dir: string, options: { maxFileBytes: number; backupCount: number }, lines: string[]) {
  const file = new RotatingFile(dir, "_main.log", options.backupCount);
  await file.open();
  const { writer } = makeWriter(file, { maxFileBytes: options.maxFileBytes });
  lines.forEach((line, i) => submit(writer, i, line));
  await writer.close();
  return writer;
}

describe("rotation by size", () => {
  test("a file fills up to exactly max_file_bytes, then the next record starts a new file", async () => {
    const dir = tempDir();
    // Each line is 10 bytes with its newline; 100 bytes hold exactly 10 lines.
    const lines = Array.from({ length: 25 }, (_, i) => `line-${String(i).padStart(4, "0")}`);
    const writer = await writeLines(dir, { maxFileBytes: 100, backupCount: 5 }, lines);
    expect(size(dir, "_main.log.1")).toBe(100);
    expect(size(dir, "_main.log.0")).toBe(100);
    expect(size(dir, "_main.log")).toBe(50);
    expect(existsSync(path.join(dir, "_main.log.2"))).toBe(false);
    expect(allLines(dir)).toEqual(lines);
    expect(writer.stats.rotations).toBe(2);
  });

  test("a record is never split: one byte too many moves the whole record to the next file", async () => {
    const dir = tempDir();
    const lines = Array.from({ length: 12 }, (_, i) => `line-${String(i).padStart(4, "0")}`);
    await writeLines(dir, { maxFileBytes: 99, backupCount: 5 }, lines);
    // 99 bytes hold 9 whole 10-byte lines.
    expect(size(dir, "_main.log.0")).toBe(90);
    expect(readFileSync(path.join(dir, "_main.log.0"), "utf8").endsWith("\n")).toBe(true);
    expect(allLines(dir)).toEqual(lines);
  });

  test("a record larger than max_file_bytes gets a file of its own", async () => {
    const dir = tempDir();
    const big = "B".repeat(500);
    await writeLines(dir, { maxFileBytes: 100, backupCount: 5 }, ["small-1", big, "small-2"]);
    expect(readFileSync(path.join(dir, "_main.log.1"), "utf8")).toBe("small-1\n");
    expect(readFileSync(path.join(dir, "_main.log.0"), "utf8")).toBe(`${big}\n`);
    expect(readFileSync(path.join(dir, "_main.log"), "utf8")).toBe("small-2\n");
  });

  test("backups shift up and the oldest beyond backup_count is removed", async () => {
    const dir = tempDir();
    const lines = Array.from({ length: 60 }, (_, i) => `line-${String(i).padStart(4, "0")}`);
    await writeLines(dir, { maxFileBytes: 100, backupCount: 3 }, lines);
    // 6 files were produced; only the live one and .0 .1 .2 remain: the newest 40 records.
    expect(existsSync(path.join(dir, "_main.log.3"))).toBe(false);
    expect(allLines(dir)).toEqual(lines.slice(20));
    expect(readFileSync(path.join(dir, "_main.log.2"), "utf8").startsWith("line-0020\n")).toBe(true);
  });

  test("backup_count 0 keeps only the live file", async () => {
    const dir = tempDir();
    const lines = Array.from({ length: 15 }, (_, i) => `line-${String(i).padStart(4, "0")}`);
    await writeLines(dir, { maxFileBytes: 100, backupCount: 0 }, lines);
    expect(existsSync(path.join(dir, "_main.log.0"))).toBe(false);
    expect(allLines(dir)).toEqual(lines.slice(10));
  });

  test("an existing live file already over the limit is rotated before the first new record", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "_main.log"), "x".repeat(150) + "\n");
    await writeLines(dir, { maxFileBytes: 100, backupCount: 2 }, ["fresh"]);
    expect(readFileSync(path.join(dir, "_main.log"), "utf8")).toBe("fresh\n");
    expect(size(dir, "_main.log.0")).toBe(151);
  });
});
