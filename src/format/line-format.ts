// Formats one record as one output line:
//   <sequence> <timestamp> <hostname> <logger_name> <LEVEL> <filename> <function_name> <line_number> <message>[ [metadata: …]]\n
// Columns are padded to fixed widths; a longer value is written whole (the line shifts, data is never cut).
// An empty column is written as "-" so every line keeps the same number of columns; an empty
// timestamp is replaced by the server's receive time. Escaping keeps one record = one line:
//   "\" → "\\", LF → "\n", CR → "\r", other control bytes (0x00–0x1f except TAB, and 0x7f) → "\xHH".
// Everything else, including UTF-8, is copied byte for byte.
//
// How (this is the hottest code of the server): the line is assembled 4 bytes at a time in a word
// accumulator and stored through the output's Int32Array view, so a typical ~270-byte line costs
// ~70 word stores instead of ~270 byte stores. Field values are read a word at a time too (through
// LogFields.words when the field is 4-byte aligned, as Cap'n Proto Text always is) and tested for
// bytes that need escaping four at a time (SWAR, see hasSpecialByte); only a word that has one goes
// through the byte-by-byte escaper. Room for the whole line is reserved once, up front.
import { FIELD_COUNT, Field, type LogFields } from "../record/log-fields.ts";
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
const DASH = 0x2d;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const HEX = encoder.encode("0123456789abcdef");
/** Four spaces as one little-endian word, and the low 0–3 of them (index = count). */
const SPACES = 0x20202020;
const SPACES_LOW = [0, 0x20, 0x2020, 0x202020] as const;

export const LEVEL_NAMES = [
  "NOTSET", "DEBUG", "STREAM", "INFO", "LOGON", "LOGOUT",
  "TRADE", "SCHEDULE", "REPORT", "WARNING", "ERROR", "CRITICAL",
] as const;

/** Levels above 11 (a newer client, or a corrupt value) are written as their decimal number. */
export function levelName(level: number): string {
  return LEVEL_NAMES[level] ?? String(level);
}

/** A constant byte string as little-endian words (zero-padded) plus its length, for putConstant. */
interface Constant {
  readonly words: Int32Array;
  readonly length: number;
}

function constant(text: string): Constant {
  const bytes = encoder.encode(text);
  const padded = new Uint8Array((bytes.length + 3) & ~3);
  padded.set(bytes);
  return { words: new Int32Array(padded.buffer), length: bytes.length };
}

/** Every level name already padded to the column width, plus the separator: always 9 bytes. */
const LEVEL_COLUMNS = LEVEL_NAMES.map((name) => constant(name.padEnd(COLUMN_WIDTH.level + 1)));

/** Metadata fields in output order, and the key written before each (parallel arrays: no per-record destructuring). */
const METADATA_FIELDS: readonly Field[] = [
  Field.module, Field.pathName, Field.processId, Field.processName,
  Field.threadId, Field.threadName, Field.serviceName, Field.stackTrace,
];
const METADATA_KEYS = [" mod=", " path=", " pid=", " pname=", " tid=", " tname=", " svc=", " stack="].map(constant);
const METADATA_OPEN = constant(" [metadata:");

/** Worst case growth of escaping: one byte becomes "\xHH". */
const MAX_ESCAPE_FACTOR = 4;
/**
 * Upper bound on a line's bytes besides its escaped values: the column widths and separators, a
 * sequence number or level of up to 20 digits, the metadata keys and brackets, the newline, and up
 * to 3 bytes of the last accumulator word. (Only an exact bound is safe: typed-array stores past
 * the end are silently dropped.)
 */
const LINE_OVERHEAD = 512;

// ---------------------------------------------------------------------------------------------------
// The word accumulator. Valid during one formatLine call (formatting is synchronous, one line at a
// time): `acc` holds the `accBits / 8` bytes (0–3, little-endian) of word `outWords[wordAt]` that are
// not stored yet. Hot loops copy these into locals and write them back.

let outWords = new Int32Array(0);
let wordAt = 0;
let acc = 0;
let accBits = 0;

/** Output position in bytes. */
function outPos(): number {
  return (wordAt << 2) + (accBits >> 3);
}

function putByte(b: number): void {
  acc |= b << accBits;
  accBits += 8;
  if (accBits === 32) {
    outWords[wordAt++] = acc;
    acc = accBits = 0;
  }
}

/** Appends the 4 bytes of `w`. */
function putWord(w: number): void {
  if (accBits === 0) {
    outWords[wordAt++] = w;
  } else {
    outWords[wordAt++] = acc | (w << accBits);
    acc = w >>> (32 - accBits);
  }
}

/** Appends the low `n` (0–3) bytes of `w`, whose other bytes must be zero. */
function putLow(w: number, n: number): void {
  const bits = n << 3;
  if (accBits + bits < 32) {
    acc |= w << accBits;
    accBits += bits;
  } else {
    // accBits > 0 here, so the shift below is 8–24 (a shift by 32 would be a shift by 0 in JS).
    outWords[wordAt++] = acc | (w << accBits);
    acc = w >>> (32 - accBits);
    accBits += bits - 32;
  }
}

function putSpaces(n: number): void {
  for (; n >= 4; n -= 4) putWord(SPACES);
  if (n > 0) putLow(SPACES_LOW[n], n);
}

function putConstant(c: Constant): void {
  const words = c.words;
  const whole = c.length >> 2;
  for (let i = 0; i < whole; i++) putWord(words[i]);
  if ((c.length & 3) !== 0) putLow(words[whole], c.length & 3);
}

/** Appends one value byte, escaped if it has to be. */
function putEscapedByte(b: number): void {
  if (b >= 0x20 ? b !== BACKSLASH && b !== 0x7f : b === 0x09) putByte(b);
  else if (b === BACKSLASH) putLow(0x5c5c, 2); // "\\"
  else if (b === NEWLINE) putLow(0x6e5c, 2); // "\n"
  else if (b === 0x0d) putLow(0x725c, 2); // "\r"
  else putWord(0x785c | (HEX[b >> 4] << 16) | (HEX[b & 15] << 24)); // "\xHH"
}

/**
 * True if any of the 4 bytes of `w` is < 0x20 (TAB included: such words take the byte path, which
 * keeps it), "\" or 0x7f. Classic SWAR tests, exact as booleans: for "some byte < 0x20",
 * (w - 0x20202020) & ~w & 0x80808080; for "some byte == c", the zero-byte test on w ^ cccccccc.
 */
function hasSpecialByte(w: number): boolean {
  const backslash = w ^ 0x5c5c5c5c;
  const del = w ^ 0x7f7f7f7f;
  return (
    (((w - 0x20202020) & ~w) | ((backslash - 0x01010101) & ~backslash) | ((del - 0x01010101) & ~del)) & 0x80808080
  ) !== 0;
}

/** High bytes that fill a 1–3 byte tail word before the SWAR test ("A", which needs no escaping). */
const TAIL_FILL = [0, 0x41414100, 0x41410000, 0x41000000] as const;

/**
 * Appends `fields[field]` escaped and returns the number of bytes written. `words` is the word view
 * of `fields.bytes`, or null; it is used when the value starts 4-byte aligned.
 */
function putValue(fields: LogFields, field: number, words: Int32Array | null): number {
  const src = fields.bytes;
  let p = fields.start[field];
  const end = p + fields.length[field];
  const wholeEnd = end - ((end - p) & 3);
  const before = outPos();
  const out = outWords;
  let k = wordAt;
  let a = acc;
  let s = accBits;
  const aligned = words !== null && (p & 3) === 0;
  while (p < wholeEnd) {
    const w = aligned ? words[p >> 2] : src[p] | (src[p + 1] << 8) | (src[p + 2] << 16) | (src[p + 3] << 24);
    p += 4;
    if (hasSpecialByte(w)) {
      // Rare: escape this word byte by byte through the shared state.
      wordAt = k;
      acc = a;
      accBits = s;
      putEscapedByte(w & 0xff);
      putEscapedByte((w >>> 8) & 0xff);
      putEscapedByte((w >>> 16) & 0xff);
      putEscapedByte(w >>> 24);
      k = wordAt;
      a = acc;
      s = accBits;
    } else if (s === 0) {
      out[k++] = w;
    } else {
      out[k++] = a | (w << s);
      a = w >>> (32 - s);
    }
  }
  wordAt = k;
  acc = a;
  accBits = s;
  const tail = end - p;
  if (tail > 0) {
    let w = src[p];
    if (tail > 1) w |= src[p + 1] << 8;
    if (tail > 2) w |= src[p + 2] << 16;
    if (hasSpecialByte(w | TAIL_FILL[tail])) {
      for (; p < end; p++) putEscapedByte(src[p]);
    } else {
      putLow(w, tail);
    }
  }
  return outPos() - before;
}

/** A padded column: the value (or "-"), spaces up to `width`, and the separator. */
function putColumn(fields: LogFields, field: number, width: number, words: Int32Array | null): void {
  let written = 1;
  if (fields.length[field] === 0) putByte(DASH);
  else written = putValue(fields, field, words);
  putSpaces(written < width ? width - written + 1 : 1);
}

/** Decimal digits of a non-negative integer, right-aligned in DIGITS[DIGITS.length - count …]. */
const DIGITS = new Uint8Array(24);

function toDigits(value: number): number {
  let i = DIGITS.length;
  if (value <= 0x7fffffff) {
    // int32 arithmetic: no floating-point division.
    let v = value | 0;
    do {
      const q = (v / 10) | 0;
      DIGITS[--i] = 0x30 + v - q * 10;
      v = q;
    } while (v !== 0);
  } else {
    let v = value;
    do {
      const q = Math.floor(v / 10);
      DIGITS[--i] = 0x30 + (v - q * 10);
      v = q;
    } while (v > 0 && i > 0);
  }
  return DIGITS.length - i;
}

function putDigits(count: number): void {
  for (let i = DIGITS.length - count; i < DIGITS.length; i++) putByte(DIGITS[i]);
}

function putLevel(level: number): void {
  const column = LEVEL_COLUMNS[level];
  if (column !== undefined) {
    putConstant(column);
  } else if (Number.isSafeInteger(level) && level >= 0) {
    const digits = toDigits(level);
    putDigits(digits);
    putSpaces(digits < COLUMN_WIDTH.level ? COLUMN_WIDTH.level - digits + 1 : 1);
  } else {
    // Not a level any decoder produces; written as JS prints it (short ASCII).
    const text = encoder.encode(String(level).slice(0, 20));
    for (let i = 0; i < text.length; i++) putByte(text[i]);
    putSpaces(text.length < COLUMN_WIDTH.level ? COLUMN_WIDTH.level - text.length + 1 : 1);
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

/** `fields.words` if it really is a word view of `fields.bytes` (same memory, same start), else null. */
function wordView(fields: LogFields): Int32Array | null {
  const words = fields.words;
  const bytes = fields.bytes;
  if (words === null || words.buffer !== bytes.buffer || words.byteOffset !== bytes.byteOffset) return null;
  return words.length >= bytes.length >> 2 ? words : null;
}

/**
 * Appends the complete line (with its trailing newline) for record `sequence` (a non-negative safe
 * integer) to `out`.
 */
export function formatLine(out: ByteBuffer, sequence: number, fields: LogFields): void {
  const length = fields.length;
  let valueBytes = 0;
  for (let i = 0; i < FIELD_COUNT; i++) valueBytes += length[i];
  out.ensure(valueBytes * MAX_ESCAPE_FACTOR + LINE_OVERHEAD);

  // Start the accumulator at out.pos, taking over the bytes already there in its word.
  const pos = out.pos;
  outWords = out.words;
  wordAt = pos >> 2;
  accBits = (pos & 3) << 3;
  acc = accBits === 0 ? 0 : outWords[wordAt] & ((1 << accBits) - 1);
  const words = wordView(fields);

  const digits = toDigits(sequence);
  putDigits(digits);
  putSpaces(digits < COLUMN_WIDTH.sequence ? COLUMN_WIDTH.sequence - digits + 1 : 1);

  if (length[Field.timestamp] === 0) {
    const stamp = encoder.encode(receiveTimestamp(nowMicros()));
    for (let i = 0; i < stamp.length; i++) putByte(stamp[i]);
    putSpaces(COLUMN_WIDTH.timestamp - stamp.length + 1);
  } else {
    putColumn(fields, Field.timestamp, COLUMN_WIDTH.timestamp, words);
  }
  putColumn(fields, Field.hostname, COLUMN_WIDTH.hostname, words);
  putColumn(fields, Field.loggerName, COLUMN_WIDTH.loggerName, words);
  putLevel(fields.level);
  putColumn(fields, Field.filename, COLUMN_WIDTH.filename, words);
  putColumn(fields, Field.functionName, COLUMN_WIDTH.functionName, words);
  putColumn(fields, Field.lineNumber, COLUMN_WIDTH.lineNumber, words);
  if (length[Field.message] !== 0) putValue(fields, Field.message, words);

  let metadataOpen = false;
  for (let i = 0; i < METADATA_FIELDS.length; i++) {
    const field = METADATA_FIELDS[i];
    if (length[field] === 0) continue;
    if (!metadataOpen) {
      putConstant(METADATA_OPEN);
      metadataOpen = true;
    }
    putConstant(METADATA_KEYS[i]);
    putValue(fields, field, words);
  }
  if (metadataOpen) putLow(0x0a5d, 2); // "]\n"
  else putByte(NEWLINE);

  // Store the last partial word (its unused bytes are past the new end: scratch, see ByteBuffer).
  if (accBits !== 0) outWords[wordAt] = acc;
  out.pos = outPos();
}
