// Drives an OrderedWriter directly with ready-made lines, over a real RotatingFile (or a test LogFile).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { FsyncPolicy } from "../../src/config.ts";
import { OpsLog } from "../../src/ops-log.ts";
import type { LogFile } from "../../src/writer/log-file.ts";
import { OrderedWriter } from "../../src/writer/ordered-writer.ts";

const encoder = new TextEncoder();

export interface HarnessOptions {
  firstSequence?: number;
  maxFileBytes?: number;
  gapTimeoutMs?: number;
  fsync?: FsyncPolicy;
  maxPendingBytes?: number;
}

/** OpsLog that keeps messages for assertions instead of printing them. */
export class CapturedOps extends OpsLog {
  lines: string[] = [];
  constructor() {
    super("Test");
  }
  override info(message: string): void {
    this.lines.push(`info: ${message}`);
  }
  override warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }
  override error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}

export function makeWriter(file: LogFile, options: HarnessOptions = {}) {
  const ops = new CapturedOps();
  const writer = new OrderedWriter(file, {
    firstSequence: options.firstSequence ?? 0,
    maxFileBytes: options.maxFileBytes ?? 1 << 30,
    gapTimeoutMs: options.gapTimeoutMs ?? 5000,
    fsync: options.fsync ?? { kind: "never" },
    maxPendingBytes: options.maxPendingBytes ?? 64 << 20,
    ops,
  });
  return { writer, ops };
}

/** Submits `text` + "\n" as the line of `sequence`. */
export function submit(writer: OrderedWriter, sequence: number, text: string): void {
  const line = encoder.encode(`${text}\n`);
  const out = writer.lineBuffer(sequence, line.length);
  out.append(line);
  writer.commitLine(sequence, out);
}

/** Lines of every file in `dir` from the oldest backup to the live file. */
export function allLines(dir: string, live = "_main.log"): string[] {
  const backups = readdirSync(dir)
    .filter((name) => name.startsWith(`${live}.`))
    .map((name) => Number(name.slice(live.length + 1)))
    .sort((a, b) => b - a);
  const files = [...backups.map((n) => `${live}.${n}`), live];
  return files.flatMap((name) => readFileSync(path.join(dir, name), "utf8").split("\n").filter((line) => line !== ""));
}
