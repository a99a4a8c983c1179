import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { lastSequenceIn } from "../../src/writer/last-sequence.ts";
import { tempDir } from "../support/server-process.ts";

function fileWith(text: string): string {
  const file = path.join(tempDir(), "_main.log");
  writeFileSync(file, text);
  return file;
}

describe("lastSequenceIn", () => {
  test("missing or empty file", () => {
    expect(lastSequenceIn(path.join(tempDir(), "none.log"))).toBeNull();
    expect(lastSequenceIn(fileWith(""))).toBeNull();
  });

  test("the number that starts the last line", () => {
    expect(lastSequenceIn(fileWith("0          a\n1          b\n41         c\n"))).toBe(41);
  });

  test("a torn last line still counts: its number was handed out", () => {
    expect(lastSequenceIn(fileWith("7          a\n8          b\n9          half-writ"))).toBe(9);
  });

  test("lines that do not start with a number are skipped", () => {
    expect(lastSequenceIn(fileWith("12         a\nnot a record\n\n"))).toBe(12);
    expect(lastSequenceIn(fileWith("no numbers\nat all\n"))).toBeNull();
  });

  test("a last line longer than the read chunk", () => {
    expect(lastSequenceIn(fileWith(`5 a\n123456 ${"m".repeat(200_000)}\n`))).toBe(123456);
  });

  test("large numbers", () => {
    expect(lastSequenceIn(fileWith("98765432109 x\n"))).toBe(98765432109);
  });
});
