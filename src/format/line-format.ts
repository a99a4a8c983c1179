// Formats one record as one output line:
//   <sequence> <timestamp> <hostname> <logger_name> <LEVEL> <filename> <function_name> <line_number> <message>[ [metadata: …]]\n
// Columns are padded to fixed widths; a longer value is written whole (the line shifts, data is never cut).
// An empty column is written as "-" so every line keeps the same number of columns; an empty
// timestamp is replaced by the server's receive time. Escaping keeps one record = one line:
//   "\" → "\\", LF → "\n", CR → "\r", other control bytes (0x00–0x1f except TAB, and 0x7f) → "\xHH".
// Everything else, including UTF-8, is copied byte for byte.
import { Field, type LogFields } from "../record/log-fields.ts";
import { copyBytes, NATIVE_COPY_MIN_BYTES } from "../byte-copy.ts";
import type { ByteBuffer } from "./byte-buffer.ts";

export const COLUMN_WIDTH = {
  sequence: 10,
  timestamp: 30,
  hostname: 15,
  loggerName: 15,
  level: 8,
  filename: 15,
  functionName: 15,
  lineNumber: 5,
} as const;

const encoder = new TextEncoder();
const SPACE = 0x20;
const DASH = 0x2d;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const HEX = encoder.encode("0123456789abcdef");

export const LEVEL_NAMES = [
  "NOTSET", "DEBUG", "STREAM", "INFO", "LOGON", "LOGOUT",
  "TRADE", "SCHEDULE", "REPORT", "WARNING", "ERROR", "CRITICAL",
] as const;
const LEVEL_BYTES = LEVEL_NAMES.map((name) => encoder.encode(name));

/** Levels above 11 (a newer client, or a corrupt value) are written as their decimal number. */
export function levelName(level: number): string {
  return LEVEL_NAMES[level] ?? String(level);
}

/** Metadata fields in output order, and the key written before each (parallel arrays: no per-record destructuring). */
const METADATA_FIELDS: readonly Field[] = [
  Field.module, Field.pathName, Field.processId, Field.processName,
  Field.threadId, Field.threadName, Field.serviceName, Field.stackTrace,
];
const METADATA_KEYS: readonly Uint8Array[] = [" mod=", " path=", " pid=", " pname=", " tid=", " tname=", " svc=", " stack="].map(
  (key) => encoder.encode(key),
);
const METADATA_OPEN = encoder.encode(" [metadata:");

/** Worst case growth of escaping: one byte becomes "\xHH". */
const MAX_ESCAPE_FACTOR = 4;

/** True for bytes that cannot go into a line as they are (see the escaping rules above). */
function needsEscape(b: number): boolean {
  return (b < 0x20 && b !== 0x09) || b === BACKSLASH || b === 0x7f;
}

/** Writes `fields[field]` escaped; returns the number of bytes the value produced. */
function writeEscaped(out: ByteBuffer, fields: LogFields, field: number): number {
  const src = fields.bytes;
  const start = fields.start[field];
  const end = start + fields.length[field];
  // Common case: nothing to escape, so the value is one straight copy.
  let clean = start;
  while (clean < end && !needsEscape(src[clean])) clean++;
  if (clean === end) {
    out.ensure(end - start);
    const o = out.pos;
    if (end - start >= NATIVE_COPY_MIN_BYTES) copyBytes(src, start, end, out.bytes, o);
    else {
      const dst = out.bytes;
      for (let i = start, k = o; i < end; i++, k++) dst[k] = src[i];
    }
    out.pos = o + (end - start);
    return end - start;
  }
  out.ensure((end - start) * MAX_ESCAPE_FACTOR);
  const dst = out.bytes;
  let o = out.pos;
  for (let i = start; i < end; i++) {
    const b = src[i];
    if (!needsEscape(b)) {
      dst[o++] = b;
      continue;
    }
    dst[o++] = BACKSLASH;
    if (b === BACKSLASH) dst[o++] = BACKSLASH;
    else if (b === NEWLINE) dst[o++] = 0x6e; // n
    else if (b === 0x0d) dst[o++] = 0x72; // r
    else {
      dst[o++] = 0x78; // x
      dst[o++] = HEX[b >> 4];
      dst[o++] = HEX[b & 15];
    }
  }
  const written = o - out.pos;
  out.pos = o;
  return written;
}

function pad(out: ByteBuffer, written: number, width: number): void {
  const spaces = width - written;
  out.ensure(spaces > 0 ? spaces + 1 : 1);
  const dst = out.bytes;
  let o = out.pos;
  for (let i = 0; i < spaces; i++) dst[o++] = SPACE;
  dst[o++] = SPACE; // column separator
  out.pos = o;
}

function writeColumn(out: ByteBuffer, fields: LogFields, field: number, width: number): void {
  let written: number;
  if (fields.length[field] === 0) {
    out.ensure(1);
    out.bytes[out.pos++] = DASH;
    written = 1;
  } else {
    written = writeEscaped(out, fields, field);
  }
  pad(out, written, width);
}

function writeAscii(out: ByteBuffer, text: Uint8Array): void {
  out.append(text, 0, text.length);
}

/** Writes a non-negative integer in decimal without creating a string. */
function writeDecimal(out: ByteBuffer, value: number): number {
  out.ensure(16);
  const dst = out.bytes;
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let o = out.pos + digits;
  let v = value;
  do {
    dst[--o] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  } while (v > 0);
  out.pos += digits;
  return digits;
}

function writeLevel(out: ByteBuffer, level: number): void {
  const name = LEVEL_BYTES[level];
  if (name !== undefined) {
    writeAscii(out, name);
    pad(out, name.length, COLUMN_WIDTH.level);
  } else {
    pad(out, writeDecimal(out, level), COLUMN_WIDTH.level);
  }
}

/** RFC 3339 UTC with microseconds, e.g. 2026-11-26T00:45:28.123456Z; used only for empty client timestamps. */
export function receiveTimestamp(epochMicros: number): string {
  const iso = new Date(Math.floor(epochMicros / 1000)).toISOString(); // …SS.mmmZ
  const micros = String(Math.floor(epochMicros) % 1000).padStart(3, "0");
  return `${iso.slice(0, 23)}${micros}Z`;
}

function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Appends the complete line (with its trailing newline) for record `sequence` to `out`. */
export function formatLine(out: ByteBuffer, sequence: number, fields: LogFields): void {
  pad(out, writeDecimal(out, sequence), COLUMN_WIDTH.sequence);

  if (fields.length[Field.timestamp] === 0) {
    const stamp = encoder.encode(receiveTimestamp(nowMicros()));
    writeAscii(out, stamp);
    pad(out, stamp.length, COLUMN_WIDTH.timestamp);
  } else {
    writeColumn(out, fields, Field.timestamp, COLUMN_WIDTH.timestamp);
  }
  writeColumn(out, fields, Field.hostname, COLUMN_WIDTH.hostname);
  writeColumn(out, fields, Field.loggerName, COLUMN_WIDTH.loggerName);
  writeLevel(out, fields.level);
  writeColumn(out, fields, Field.filename, COLUMN_WIDTH.filename);
  writeColumn(out, fields, Field.functionName, COLUMN_WIDTH.functionName);
  writeColumn(out, fields, Field.lineNumber, COLUMN_WIDTH.lineNumber);
  writeEscaped(out, fields, Field.message);

  let metadataOpen = false;
  for (let i = 0; i < METADATA_FIELDS.length; i++) {
    const field = METADATA_FIELDS[i];
    if (fields.length[field] === 0) continue;
    if (!metadataOpen) {
      writeAscii(out, METADATA_OPEN);
      metadataOpen = true;
    }
    writeAscii(out, METADATA_KEYS[i]);
    writeEscaped(out, fields, field);
  }
  out.ensure(2);
  if (metadataOpen) out.bytes[out.pos++] = 0x5d; // ]
  out.bytes[out.pos++] = NEWLINE;
}
