// Formats one record as one output line:
//   <sequence> <timestamp> <hostname> <logger_name> <LEVEL> <filename> <function_name> <line_number> <message>[ [metadata: …]]\n
// Columns are padded to fixed widths; a longer value is written whole (the line shifts, data is never cut).
// An empty column is written as "-" so every line keeps the same number of columns; an empty
// timestamp is replaced by the server's receive time. Escaping keeps one record = one line:
//   "\" → "\\", LF → "\n", CR → "\r", other control bytes (0x00–0x1f except TAB, and 0x7f) → "\xHH".
// Everything else, including UTF-8, is copied byte for byte. Levels 0–11 are written by name; a
// higher one (a newer client, or a corrupt value) as its decimal number.
//
// How (this is the hottest code of the server): the line is written 4 bytes at a time. Values are read
// a word at a time (through LogFields.words when 4-byte aligned, as Cap'n Proto Text always is),
// tested for bytes that need escaping four at a time (SWAR, see isCleanWord), and stored with one
// DataView store per word; only a word that has such a byte goes through the byte-by-byte escaper.
// Stores may run up to 3 bytes past the current end (the next store overwrites them; room for the
// whole line is reserved once, up front), so a value's last 1–3 bytes, padding and constant text
// are whole-word stores too. Native copies (Buffer#copy, set) cost more than this for values of
// the usual sizes, so there are none.
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
/** Four spaces as one word (all words here are little-endian: first byte lowest). */
const SPACES = 0x20202020;

export const LEVEL_NAMES = [
  "NOTSET", "DEBUG", "STREAM", "INFO", "LOGON", "LOGOUT",
  "TRADE", "SCHEDULE", "REPORT", "WARNING", "ERROR", "CRITICAL",
] as const;

/** `text` as little-endian words, padded with spaces to whole words. */
function wordsOf(text: string): Int32Array {
  const bytes = encoder.encode(text);
  const padded = new Uint8Array((bytes.length + 3) & ~3).fill(0x20);
  padded.set(bytes);
  return new Int32Array(padded.buffer);
}

/** Level column i = words 3i..3i+2: the name padded to the width, the separator, 3 spare spaces. */
const LEVEL_WORDS = new Int32Array(LEVEL_NAMES.length * 3);
LEVEL_NAMES.forEach((name, i) => LEVEL_WORDS.set(wordsOf(name.padEnd(12)), i * 3));
const LEVEL_COLUMN_BYTES = COLUMN_WIDTH.level + 1;

/** Metadata fields in output order, and the key written before each (parallel arrays: no per-record destructuring). */
const METADATA_FIELDS: readonly Field[] = [
  Field.module, Field.pathName, Field.processId, Field.processName,
  Field.threadId, Field.threadName, Field.serviceName, Field.stackTrace,
];
const METADATA_KEYS = [" mod=", " path=", " pid=", " pname=", " tid=", " tname=", " svc=", " stack="];
/** Key i = words 2i, 2i+1 (every key is 5–7 bytes) and its length. */
const KEY_WORDS = new Int32Array(METADATA_KEYS.length * 2);
const KEY_LENGTH = new Int32Array(METADATA_KEYS.length);
METADATA_KEYS.forEach((key, i) => {
  KEY_WORDS.set(wordsOf(key.padEnd(8)), i * 2);
  KEY_LENGTH[i] = key.length;
});
const METADATA_OPEN = wordsOf(" [metadata:"); // 11 bytes in 3 words
const METADATA_OPEN_BYTES = 11;

/** The padded columns after the sequence number, in order; LEVEL_COLUMN stands for the level. */
const LEVEL_COLUMN = -1;
const COLUMN_FIELDS = new Int32Array([
  Field.timestamp, Field.hostname, Field.loggerName, LEVEL_COLUMN, Field.filename, Field.functionName, Field.lineNumber,
]);
const COLUMN_WIDTHS = new Int32Array([
  COLUMN_WIDTH.timestamp, COLUMN_WIDTH.hostname, COLUMN_WIDTH.loggerName, COLUMN_WIDTH.level,
  COLUMN_WIDTH.filename, COLUMN_WIDTH.functionName, COLUMN_WIDTH.lineNumber,
]);
/** The message, then the metadata fields (whose keys are METADATA_KEYS[i - 1]). */
const TRAILING_FIELDS = new Int32Array([Field.message, ...METADATA_FIELDS]);

/** Worst case growth of escaping: one byte becomes "\xHH". */
const MAX_ESCAPE_FACTOR = 4;
/**
 * Upper bound on a line's bytes besides its escaped values, plus the 3 bytes a store may run past the
 * end: column widths and separators, a sequence number and a level of up to 24 characters each, the
 * metadata keys and brackets, the newline. Must be a true bound: the DataView stores would throw.
 */
const LINE_OVERHEAD = 512;

/**
 * Bytes not to escape, four at a time: true if every byte of `w` is >= 0x20 and not "\" or 0x7f.
 * Per byte b < 0x80 (b = byte & 0x7f; bytes >= 0x80 are always fine, which the final `| w` says),
 * bit 7 of b + 0x60 says b >= 0x20, of (b ^ 0x5c) + 0x7f says b != 0x5c, of b + 1 says b == 0x7f;
 * no sum carries into the next byte, so the test is exact for every byte. TAB fails it, like other
 * bytes < 0x20: such a word takes the byte-by-byte path, which keeps TAB as it is.
 */
function isCleanWord(w: number): boolean {
  const low = w & 0x7f7f7f7f;
  const ok = ((low + 0x60606060) & ((low ^ 0x5c5c5c5c) + 0x7f7f7f7f) & ~(low + 0x01010101)) | w;
  return (ok & 0x80808080) === (0x80808080 | 0);
}

/** For a value's last 1–3 bytes: "A"s (clean) in the bytes of the word past the value. */
const TAIL_FILL = [0, 0x41414100, 0x41410000, 0x41000000] as const;
/** Masks keeping the low 0–3 bytes of a word. */
const TAIL_MASK = [0, 0xff, 0xffff, 0xffffff] as const;

/** Writes one value byte at `o`, escaped if it has to be; returns the new end. */
function putEscapedByte(view: DataView, o: number, b: number): number {
  if (b >= 0x20 ? b !== BACKSLASH && b !== 0x7f : b === 0x09) {
    view.setUint8(o, b);
    return o + 1;
  }
  if (b === BACKSLASH) view.setUint16(o, 0x5c5c, true); // "\\"
  else if (b === NEWLINE) view.setUint16(o, 0x6e5c, true); // "\n"
  else if (b === 0x0d) view.setUint16(o, 0x725c, true); // "\r"
  else {
    view.setInt32(o, 0x785c | (HEX[b >> 4] << 16) | (HEX[b & 15] << 24), true); // "\xHH"
    return o + 4;
  }
  return o + 2;
}

/** Writes the low `n` (1–4) bytes of `w` escaped; the slow path for words that are not clean. */
function putEscapedWord(view: DataView, o: number, w: number, n: number): number {
  o = putEscapedByte(view, o, w & 0xff);
  if (n > 1) o = putEscapedByte(view, o, (w >>> 8) & 0xff);
  if (n > 2) o = putEscapedByte(view, o, (w >>> 16) & 0xff);
  if (n > 3) o = putEscapedByte(view, o, w >>> 24);
  return o;
}

/**
 * Writes `src[p, p + n)` escaped at `o` and returns the new end. `words` is the word view of `src`
 * (see wordView) or null; it is used when `p` is 4-byte aligned, otherwise words are put together
 * from bytes.
 */
function putValue(view: DataView, o: number, src: Uint8Array, words: Int32Array | null, p: number, n: number): number {
  const end = p + n;
  const wholeEnd = end - (n & 3);
  const tail = n & 3;
  if (words !== null && (p & 3) === 0) {
    for (; p < wholeEnd; p += 4) {
      const w = words[p >> 2];
      if (isCleanWord(w)) {
        view.setInt32(o, w, true);
        o += 4;
      } else {
        o = putEscapedWord(view, o, w, 4);
      }
    }
    if (tail === 0) return o;
    // The word holding the last bytes lies inside `src` (words covers all of it, see wordView).
    const w = words[p >> 2] & TAIL_MASK[tail];
    if (!isCleanWord(w | TAIL_FILL[tail])) return putEscapedWord(view, o, w, tail);
    view.setInt32(o, w, true);
    return o + tail;
  }
  return putValueUnaligned(view, o, src, p, n);
}

/**
 * putValue for a value that does not start 4-byte aligned, or without a word view (gRPC): words are
 * put together from bytes. A separate function keeps putValue small enough for the JIT to inline.
 */
function putValueUnaligned(view: DataView, o: number, src: Uint8Array, p: number, n: number): number {
  const end = p + n;
  const wholeEnd = end - (n & 3);
  const tail = n & 3;
  for (; p < wholeEnd; p += 4) {
    const w = src[p] | (src[p + 1] << 8) | (src[p + 2] << 16) | (src[p + 3] << 24);
    if (isCleanWord(w)) {
      view.setInt32(o, w, true);
      o += 4;
    } else {
      o = putEscapedWord(view, o, w, 4);
    }
  }
  if (tail === 0) return o;
  let w = src[p];
  if (tail > 1) w |= src[p + 1] << 8;
  if (tail > 2) w |= src[p + 2] << 16;
  if (!isCleanWord(w | TAIL_FILL[tail])) return putEscapedWord(view, o, w, tail);
  view.setInt32(o, w, true);
  return o + tail;
}

/** Pads a column that started at `start` and whose value ends at `e`; returns where the next one starts. */
function padColumn(view: DataView, start: number, e: number, width: number): number {
  const next = (e < start + width ? start + width : e) + 1; // + 1: the separator
  for (let q = e; q < next; q += 4) view.setInt32(q, SPACES, true);
  return next;
}

/** A padded column: the value (or "-"), spaces up to `width`, and the separator. */
function putColumn(view: DataView, o: number, fields: LogFields, field: number, width: number, words: Int32Array | null): number {
  const n = fields.length[field];
  let e: number;
  if (n === 0) {
    view.setUint8(o, DASH);
    e = o + 1;
  } else {
    e = putValue(view, o, fields.bytes, words, fields.start[field], n);
  }
  return padColumn(view, o, e, width);
}

/** DIGITS4[i] = the 4 ASCII digits of i (0–9999), zero-padded, as a word: 8 digits are 2 lookups. */
const DIGITS4 = new Int32Array(10000);
for (let i = 0; i < 10000; i++) {
  const d = String(i).padStart(4, "0");
  DIGITS4[i] = d.charCodeAt(0) | (d.charCodeAt(1) << 8) | (d.charCodeAt(2) << 16) | (d.charCodeAt(3) << 24);
}
/** Spaces in the top 0–3 bytes of a word. */
const SPACES_HIGH = [0, 0x20000000, 0x20200000, 0x20202000] as const;

function digitCount4(v: number): number {
  return v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1;
}

/**
 * Writes a non-negative integer below 10^8 and spaces to at least `width` + 1 bytes (a padded
 * column; width >= 8). Eight zero-padded digits are two DIGITS4 words; the leading zeros are
 * shifted out and spaces shifted in.
 */
function putNumberColumn8(view: DataView, o: number, v: number, width: number): number {
  const high = (v / 10000) | 0;
  const low = v - high * 10000;
  let w0 = DIGITS4[high];
  let w1 = DIGITS4[low];
  const skip = 8 - (high > 0 ? 4 + digitCount4(high) : digitCount4(low)); // leading zeros, 0–7
  if (skip >= 4) {
    w0 = (w1 >>> ((skip - 4) << 3)) | SPACES_HIGH[skip - 4];
    w1 = SPACES;
  } else if (skip > 0) {
    w0 = (w0 >>> (skip << 3)) | (w1 << ((4 - skip) << 3));
    w1 = (w1 >>> (skip << 3)) | SPACES_HIGH[skip];
  }
  view.setInt32(o, w0, true);
  view.setInt32(o + 4, w1, true);
  return padColumn(view, o, o + 8, width);
}

/** Writes a non-negative int32 in decimal at `o`; returns the new end. */
function putInt(view: DataView, o: number, v: number): number {
  let digits = 1;
  for (let t = v; t >= 10; t = (t / 10) | 0) digits++;
  for (let i = o + digits - 1; i >= o; i--) {
    const q = (v / 10) | 0;
    view.setUint8(i, 0x30 + v - q * 10);
    v = q;
  }
  return o + digits;
}

/** Writes the text of a number that is not a safe non-negative integer (no caller produces one). */
function putOddNumber(view: DataView, o: number, v: number): number {
  const text = String(v).slice(0, 24);
  for (let i = 0; i < text.length; i++) view.setUint8(o + i, text.charCodeAt(i));
  return o + text.length;
}

/** The sequence column (sequence numbers are non-negative safe integers, see Sequencer). */
function putSequenceColumn(view: DataView, o: number, v: number): number {
  const width = COLUMN_WIDTH.sequence;
  if (v >= 0 && v < 1e8) return putNumberColumn8(view, o, v | 0, width);
  if (!(v >= 1e8 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v))) return padColumn(view, o, putOddNumber(view, o, v), width);
  // Up to 16 digits: the part above 10^8 (< 2^31) digit by digit, then 8 zero-padded digits.
  const high = Math.floor(v / 1e8);
  const low = v - high * 1e8;
  let e = putInt(view, o, high);
  const mid = (low / 10000) | 0;
  view.setInt32(e, DIGITS4[mid], true);
  view.setInt32(e + 4, DIGITS4[low - mid * 10000], true);
  e += 8;
  return padColumn(view, o, e, width);
}

function putLevelColumn(view: DataView, o: number, level: number): number {
  if (level >= 0 && level < LEVEL_NAMES.length && Number.isInteger(level)) {
    const i = level * 3;
    view.setInt32(o, LEVEL_WORDS[i], true);
    view.setInt32(o + 4, LEVEL_WORDS[i + 1], true);
    view.setInt32(o + 8, LEVEL_WORDS[i + 2], true);
    return o + LEVEL_COLUMN_BYTES;
  }
  const e = level >= 0 && level <= 0x7fffffff && Number.isInteger(level) ? putInt(view, o, level) : putOddNumber(view, o, level);
  return padColumn(view, o, e, COLUMN_WIDTH.level);
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

function putReceiveTimestampColumn(view: DataView, o: number): number {
  const stamp = receiveTimestamp(nowMicros()); // ASCII
  for (let i = 0; i < stamp.length; i++) view.setUint8(o + i, stamp.charCodeAt(i));
  return padColumn(view, o, o + stamp.length, COLUMN_WIDTH.timestamp);
}

// The last (words, bytes) pair that wordView checked: the TCP decoder hands over the same scratch
// buffer every time, and `.buffer` is a native call.
let checkedWords: Int32Array | null = null;
let checkedBytes: Uint8Array | null = null;

/** `fields.words` if it is a word view of all of `fields.bytes` (same memory, same start), else null. */
function wordView(fields: LogFields): Int32Array | null {
  const words = fields.words;
  const bytes = fields.bytes;
  if (words === null) return null;
  if (words === checkedWords && bytes === checkedBytes) return words;
  if (words.buffer !== bytes.buffer || words.byteOffset !== bytes.byteOffset || words.length * 4 < bytes.length) return null;
  checkedWords = words;
  checkedBytes = bytes;
  return words;
}

/**
 * Appends the complete line (with its trailing newline) for record `sequence` (a non-negative safe
 * integer) to `out`.
 */
export function formatLine(out: ByteBuffer, sequence: number, fields: LogFields): void {
  writeSequenceColumn(out, sequence);
  formatLineBody(out, fields);
}

/** Bytes of the sequence column (the number padded to its width, then the separator). */
export const SEQUENCE_COLUMN_BYTES = COLUMN_WIDTH.sequence + 1;
const SEQUENCE_COLUMN_LIMIT = 10 ** COLUMN_WIDTH.sequence;

/** Reserves a sequence column of spaces, for a line whose number is not known yet (see patchSequenceColumn). */
export function writeSequencePlaceholder(out: ByteBuffer): void {
  out.ensure(SEQUENCE_COLUMN_BYTES);
  out.bytes.fill(0x20, out.pos, out.pos + SEQUENCE_COLUMN_BYTES);
  out.pos += SEQUENCE_COLUMN_BYTES;
}

/**
 * Writes `sequence` into a placeholder column at `bytes[at]`, exactly as writeSequenceColumn would.
 * Returns false, changing nothing, when the number has more digits than the column is wide.
 */
export function patchSequenceColumn(bytes: Uint8Array, at: number, sequence: number): boolean {
  if (sequence >= SEQUENCE_COLUMN_LIMIT) return false;
  let digits = 1;
  for (let v = sequence; v >= 10; v = Math.floor(v / 10)) digits++;
  let v = sequence;
  for (let i = at + digits - 1; i >= at; i--) {
    bytes[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return true;
}

/** An upper bound on the bytes `formatLine` needs for `fields`, so a caller can reserve room first. */
export function maxLineBytes(fields: LogFields): number {
  let valueBytes = 0;
  for (let i = 0; i < FIELD_COUNT; i++) valueBytes += fields.length[i];
  return valueBytes * MAX_ESCAPE_FACTOR + 2 * LINE_OVERHEAD;
}


/** The first column. Kept apart from the body so decode workers can format bodies before numbers are known. */
export function writeSequenceColumn(out: ByteBuffer, sequence: number): void {
  out.ensure(LINE_OVERHEAD);
  out.pos = putSequenceColumn(out.view, out.pos, sequence);
}

/** Everything after the sequence column, through the trailing newline. */
export function formatLineBody(out: ByteBuffer, fields: LogFields): void {
  const length = fields.length;
  let valueBytes = 0;
  for (let i = 0; i < FIELD_COUNT; i++) valueBytes += length[i];
  out.ensure(valueBytes * MAX_ESCAPE_FACTOR + LINE_OVERHEAD);
  const view = out.view;
  const words = wordView(fields);

  let o = out.pos;
  // One call site per helper (a loop over tables instead of unrolled calls) keeps the compiled code
  // small; with the decoder in the same loop, code size costs more than the loop does.
  for (let c = 0; c < COLUMN_FIELDS.length; c++) {
    const field = COLUMN_FIELDS[c];
    if (field === LEVEL_COLUMN) o = putLevelColumn(view, o, fields.level);
    else if (field === Field.timestamp && length[field] === 0) o = putReceiveTimestampColumn(view, o);
    else o = putColumn(view, o, fields, field, COLUMN_WIDTHS[c], words);
  }
  // The message (no key, no padding), then the metadata that is present.
  const src = fields.bytes;
  let metadataOpen = false;
  for (let i = 0; i < TRAILING_FIELDS.length; i++) {
    const field = TRAILING_FIELDS[i];
    const n = length[field];
    if (n === 0) continue;
    if (i > 0) {
      if (!metadataOpen) {
        view.setInt32(o, METADATA_OPEN[0], true);
        view.setInt32(o + 4, METADATA_OPEN[1], true);
        view.setInt32(o + 8, METADATA_OPEN[2], true);
        o += METADATA_OPEN_BYTES;
        metadataOpen = true;
      }
      view.setInt32(o, KEY_WORDS[2 * i - 2], true);
      view.setInt32(o + 4, KEY_WORDS[2 * i - 1], true);
      o += KEY_LENGTH[i - 1];
    }
    o = putValue(view, o, src, words, fields.start[field], n);
  }
  if (metadataOpen) {
    view.setUint16(o, 0x0a5d, true); // "]\n"
    o += 2;
  } else {
    view.setUint8(o++, NEWLINE);
  }
  out.pos = o;
}
