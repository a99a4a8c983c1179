// Pins the output of the line formatter (src/format/line-format.ts): exact lines for the documented
// cases, then a randomized comparison against a deliberately simple reference formatter written here
// from the rules in the formatter's header comment. Values are placed at random aligned and unaligned
// offsets among random bytes, with and without a word view, and also come through the real TCP decoder.
import { describe, expect, test } from "bun:test";
import { decodeLoggerFrame } from "../../src/decode/logger-msg.ts";
import { ByteBuffer } from "../../src/format/byte-buffer.ts";
import { formatLine, LEVEL_NAMES } from "../../src/format/line-format.ts";
import { StringFieldsEncoder } from "../../src/record/fields-from-strings.ts";
import { FIELD_COUNT, Field, LogFields } from "../../src/record/log-fields.ts";
import { Rng } from "../decode/support.ts";
import { logFrame, type RecordText } from "../support/frames.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const strings = new StringFieldsEncoder();

/** Formats one record given as strings in Field order; returns the line as a string (UTF-8 decoded). */
function line(sequence: number, values: (string | undefined)[], level: number, out = new ByteBuffer(16)): string {
  const start = out.pos;
  formatLine(out, sequence, strings.encode(values, level));
  return text.decode(out.bytes.subarray(start, out.pos));
}

const TS = "2026-05-18T10:00:00.123456Z";
const SERVER_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

// ---------------------------------------------------------------------------------------------------
// Reference formatter: bytes in, bytes out, one rule per line of the header comment.

const WIDTHS = { sequence: 10, timestamp: 30, hostname: 15, loggerName: 15, level: 8, filename: 15, functionName: 15, lineNumber: 5 };
const META: [Field, string][] = [
  [Field.module, "mod"], [Field.pathName, "path"], [Field.processId, "pid"], [Field.processName, "pname"],
  [Field.threadId, "tid"], [Field.threadName, "tname"], [Field.serviceName, "svc"], [Field.stackTrace, "stack"],
];

function referenceEscape(value: Uint8Array): number[] {
  const out: number[] = [];
  for (const b of value) {
    if (b === 0x5c) out.push(0x5c, 0x5c);
    else if (b === 0x0a) out.push(0x5c, 0x6e);
    else if (b === 0x0d) out.push(0x5c, 0x72);
    else if ((b < 0x20 && b !== 0x09) || b === 0x7f) out.push(...utf8.encode(`\\x${b.toString(16).padStart(2, "0")}`));
    else out.push(b);
  }
  return out;
}

/** `values[i]` = bytes of field i; `serverTime` stands in for an empty timestamp. */
function referenceLine(sequence: number, values: Uint8Array[], level: number, serverTime: string): Uint8Array {
  const out: number[] = [];
  const column = (bytes: number[], width: number) => {
    out.push(...bytes);
    for (let n = bytes.length; n < width; n++) out.push(0x20);
    out.push(0x20);
  };
  const field = (f: Field) => (values[f].length === 0 ? [0x2d] : referenceEscape(values[f]));
  column([...utf8.encode(String(sequence))], WIDTHS.sequence);
  column(values[Field.timestamp].length === 0 ? [...utf8.encode(serverTime)] : field(Field.timestamp), WIDTHS.timestamp);
  column(field(Field.hostname), WIDTHS.hostname);
  column(field(Field.loggerName), WIDTHS.loggerName);
  column([...utf8.encode(level < LEVEL_NAMES.length ? LEVEL_NAMES[level] : String(level))], WIDTHS.level);
  column(field(Field.filename), WIDTHS.filename);
  column(field(Field.functionName), WIDTHS.functionName);
  column(field(Field.lineNumber), WIDTHS.lineNumber);
  out.push(...referenceEscape(values[Field.message])); // the last column: no padding, no "-"
  const present = META.filter(([f]) => values[f].length > 0);
  if (present.length > 0) {
    out.push(...utf8.encode(" [metadata:"));
    for (const [f, key] of present) out.push(...utf8.encode(` ${key}=`), ...referenceEscape(values[f]));
    out.push(0x5d);
  }
  out.push(0x0a);
  return new Uint8Array(out);
}

// ---------------------------------------------------------------------------------------------------
// Exact lines

describe("formatLine: exact lines", () => {
  test("all fields", () => {
    const values = [
      TS, "web-1.prod", "app.http", "handlers", "handlers.py", "handle_request", "120", "hello world",
      "/srv/app/handlers.py", "4242", "python3", "140213", "MainThread", "orders", "Traceback: boom",
    ];
    expect(line(42, values, 3)).toBe(
      "42         2026-05-18T10:00:00.123456Z    web-1.prod      app.http        INFO     handlers.py     handle_request  120   hello world" +
        " [metadata: mod=handlers path=/srv/app/handlers.py pid=4242 pname=python3 tid=140213 tname=MainThread svc=orders stack=Traceback: boom]\n",
    );
  });

  test("empty fields are written as '-', an empty message as nothing, no metadata block", () => {
    expect(line(0, [TS], 0)).toBe(
      "0          2026-05-18T10:00:00.123456Z    -               -               NOTSET   -               -               -     \n",
    );
  });

  test("an empty timestamp becomes the server's receive time", () => {
    const got = line(5, ["", "h"], 3);
    expect(got.slice(0, 11)).toBe("5          ");
    expect(got.slice(11, 38)).toMatch(SERVER_TIME);
    expect(got.slice(38)).toBe("    h               -               INFO     -               -               -     \n");
    const stamp = Date.parse(got.slice(11, 38));
    expect(Math.abs(stamp - Date.now())).toBeLessThan(60_000);
  });

  test("long values are written whole and shift the line", () => {
    const values = [
      TS, "a-very-long-hostname.example.com", "a.very.long.logger.name", "m", "a_very_long_filename.py",
      "a_very_long_function_name", "1234567", "msg",
    ];
    expect(line(7, values, 11)).toBe(
      "7          2026-05-18T10:00:00.123456Z    a-very-long-hostname.example.com a.very.long.logger.name CRITICAL" +
        " a_very_long_filename.py a_very_long_function_name 1234567 msg [metadata: mod=m]\n",
    );
    const long = "x".repeat(5000);
    expect(line(1, [long, long, long, long, long, long, long, long], 1)).toBe(
      `1          ${long} ${long} ${long} DEBUG    ${long} ${long} ${long} ${long} [metadata: mod=${long}]\n`,
    );
  });

  test("a value exactly as wide as its column gets only the separator", () => {
    expect(line(1234567890, ["t".repeat(30), "h".repeat(15), "l".repeat(15), undefined, "f".repeat(15), "g".repeat(15), "12345", "m"], 8)).toBe(
      `1234567890 ${"t".repeat(30)} ${"h".repeat(15)} ${"l".repeat(15)} REPORT   ${"f".repeat(15)} ${"g".repeat(15)} 12345 m\n`,
    );
  });

  test("escaping: backslash, LF, CR, control bytes, DEL; TAB and UTF-8 are kept", () => {
    const message = "a\\b\nc\rd\x00e\x1ff\x7fg\th\x01\x08\x0b\x0c\x0e\x1bé日本🎉";
    const got = line(1, [TS, "h", "l", undefined, "f", "fn", "1", message], 3);
    expect(got).toBe(
      "1          2026-05-18T10:00:00.123456Z    h               l               INFO     f               fn              1     " +
        "a\\\\b\\nc\\rd\\x00e\\x1ff\\x7fg\th\\x01\\x08\\x0b\\x0c\\x0e\\x1bé日本🎉\n",
    );
    expect(got.split("\n").length).toBe(2);
  });

  test("escaping applies to every column and to metadata; padding counts escaped bytes", () => {
    const values = ["t\n", "h\\", "l\r", "m\x00", "f\x7f", "g\x1f", "\n", "msg", "p\\q", undefined, undefined, undefined, undefined, undefined, "line1\nline2\n"];
    expect(line(3, values, 9)).toBe(
      "3          t\\n                            h\\\\             l\\r             WARNING  f\\x7f           g\\x1f           \\n   " +
        " msg [metadata: mod=m\\x00 path=p\\\\q stack=line1\\nline2\\n]\n",
    );
  });

  test("every control byte and every byte 0x20–0xff, one at a time", () => {
    for (let b = 0; b < 256; b++) {
      const bytes = new Uint8Array([0x41, b, 0x42]);
      const fields = new LogFields();
      fields.bytes = bytes;
      fields.start[Field.message] = 0;
      fields.length[Field.message] = 3;
      fields.start[Field.timestamp] = 0;
      fields.length[Field.timestamp] = 1;
      const out = new ByteBuffer(8);
      formatLine(out, 0, fields);
      const values = Array.from({ length: FIELD_COUNT }, () => new Uint8Array(0));
      values[Field.message] = bytes;
      values[Field.timestamp] = bytes.subarray(0, 1);
      expect(out.bytes.subarray(0, out.pos)).toEqual(referenceLine(0, values, 0, ""));
    }
  });

  test("every byte value at every position of a whole word, with and without a word view", () => {
    const bytes = new Uint8Array(64);
    const words = new Int32Array(bytes.buffer);
    for (const withWords of [true, false]) {
      for (const start of [8, 9, 10, 11]) {
        for (let at = 0; at < 8; at++) {
          for (let b = 0; b < 256; b++) {
            bytes.fill(0x61);
            bytes[start + at] = b;
            const fields = new LogFields();
            fields.bytes = bytes;
            fields.words = withWords ? words : null;
            fields.start[Field.timestamp] = start;
            fields.length[Field.timestamp] = 1;
            fields.start[Field.message] = start;
            fields.length[Field.message] = 8 + (at & 3); // whole words, then a tail
            const out = new ByteBuffer(8);
            formatLine(out, 0, fields);
            const values = Array.from({ length: FIELD_COUNT }, () => new Uint8Array(0));
            values[Field.timestamp] = bytes.slice(start, start + 1);
            values[Field.message] = bytes.slice(start, start + 8 + (at & 3));
            expect(out.bytes.subarray(0, out.pos)).toEqual(referenceLine(0, values, 0, ""));
          }
        }
      }
    }
  });

  test("a word view of other memory is not used", () => {
    const bytes = utf8.encode("hello world, this is the message");
    const fields = new LogFields();
    fields.bytes = bytes;
    fields.words = new Int32Array(16).fill(0x5c5c5c5c); // not a view of `bytes`
    fields.start[Field.timestamp] = 0;
    fields.length[Field.timestamp] = 5;
    fields.start[Field.message] = 0;
    fields.length[Field.message] = bytes.length;
    const out = new ByteBuffer(8);
    formatLine(out, 1, fields);
    expect(text.decode(out.bytes.subarray(0, out.pos))).toBe(
      "1          hello                          -               -               NOTSET   -               -               -     hello world, this is the message\n",
    );
  });

  test("all level names, then numbers", () => {
    const names = ["NOTSET", "DEBUG", "STREAM", "INFO", "LOGON", "LOGOUT", "TRADE", "SCHEDULE", "REPORT", "WARNING", "ERROR", "CRITICAL"];
    for (let level = 0; level < names.length; level++) {
      expect(line(1, [TS], level).slice(74, 83)).toBe(names[level].padEnd(9));
    }
    expect(line(1, [TS], 12).slice(74, 83)).toBe("12       ");
    expect(line(1, [TS], 65535).slice(74, 83)).toBe("65535    ");
    expect(line(1, [TS], 123456789)).toBe(
      "1          2026-05-18T10:00:00.123456Z    -               -               123456789 -               -               -     \n",
    );
  });

  test("metadata keys in fixed order, only the present ones", () => {
    const base = [TS, "h", "l", undefined, "f", "fn", "1", "msg"];
    const tail = "1          2026-05-18T10:00:00.123456Z    h               l               INFO     f               fn              1     msg";
    expect(line(1, base, 3)).toBe(`${tail}\n`);
    const only = (f: Field, value: string) => {
      const values: (string | undefined)[] = [...base];
      values[f] = value;
      return line(1, values, 3);
    };
    expect(only(Field.module, "m")).toBe(`${tail} [metadata: mod=m]\n`);
    expect(only(Field.pathName, "p")).toBe(`${tail} [metadata: path=p]\n`);
    expect(only(Field.processId, "1")).toBe(`${tail} [metadata: pid=1]\n`);
    expect(only(Field.processName, "n")).toBe(`${tail} [metadata: pname=n]\n`);
    expect(only(Field.threadId, "2")).toBe(`${tail} [metadata: tid=2]\n`);
    expect(only(Field.threadName, "t")).toBe(`${tail} [metadata: tname=t]\n`);
    expect(only(Field.serviceName, "s")).toBe(`${tail} [metadata: svc=s]\n`);
    expect(only(Field.stackTrace, "x")).toBe(`${tail} [metadata: stack=x]\n`);
    const values: (string | undefined)[] = [...base];
    values[Field.stackTrace] = "S";
    values[Field.threadId] = "T";
    values[Field.pathName] = "P";
    expect(line(1, values, 3)).toBe(`${tail} [metadata: path=P tid=T stack=S]\n`);
  });

  test("sequence numbers", () => {
    const rest = "2026-05-18T10:00:00.123456Z    -               -               NOTSET   -               -               -     \n";
    expect(line(0, [TS], 0)).toBe(`0          ${rest}`);
    expect(line(9, [TS], 0)).toBe(`9          ${rest}`);
    expect(line(10, [TS], 0)).toBe(`10         ${rest}`);
    expect(line(123456789, [TS], 0)).toBe(`123456789  ${rest}`);
    expect(line(2147483647, [TS], 0)).toBe(`2147483647 ${rest}`);
    expect(line(2147483648, [TS], 0)).toBe(`2147483648 ${rest}`);
    expect(line(4294967296, [TS], 0)).toBe(`4294967296 ${rest}`);
    expect(line(9999999999, [TS], 0)).toBe(`9999999999 ${rest}`);
    expect(line(10000000000, [TS], 0)).toBe(`10000000000 ${rest}`);
    expect(line(123456789012345, [TS], 0)).toBe(`123456789012345 ${rest}`);
    expect(line(Number.MAX_SAFE_INTEGER, [TS], 0)).toBe(`9007199254740991 ${rest}`);
    for (let seq = 1; seq < 2 ** 53; seq = seq * 3 + 7) expect(line(seq, [TS], 0).split(" ")[0]).toBe(String(seq));
  });

  test("appends after existing content and grows a small buffer", () => {
    const out = new ByteBuffer(1);
    out.append(utf8.encode("previous line\n"));
    const first = line(1, [TS, "h"], 3, out);
    const second = line(2, [TS, "h", "l", "m", "f", "fn", "9", "x".repeat(3000)], 10, out);
    expect(text.decode(out.bytes.subarray(0, out.pos))).toBe(`previous line\n${first}${second}`);
    expect(second.length).toBeGreaterThan(3000);
  });
});

// ---------------------------------------------------------------------------------------------------
// Randomized comparison with the reference formatter

/** Random field value: empty, plain ASCII, escape-heavy, random bytes, UTF-8, or long. */
function randomValue(rng: Rng): Uint8Array {
  const kind = rng.int(10);
  const length = rng.chance(0.05) ? rng.int(700) : rng.int(kind < 3 ? 20 : 90);
  const out = new Uint8Array(length);
  if (kind === 0) return new Uint8Array(0);
  for (let i = 0; i < length; i++) {
    if (kind <= 4) out[i] = 0x20 + rng.int(0x5f); // printable ASCII (no DEL, includes '\')
    else if (kind === 5) out[i] = rng.pick([0x09, 0x0a, 0x0d, 0x5c, 0x00, 0x1f, 0x7f, 0x20, 0x41]);
    else if (kind === 6) out[i] = rng.int(256);
    else if (kind === 7) out[i] = rng.chance(0.97) ? 0x61 + rng.int(26) : rng.pick([0x0a, 0x5c, 0x7f, 0x01, 0x09]);
    else out[i] = rng.chance(0.9) ? 0x20 + rng.int(0x5f) : 0x80 + rng.int(0x80);
  }
  return out;
}

/**
 * Lays the values out in one buffer at random offsets (all 8-byte aligned, as the Cap'n Proto decoder
 * produces them, or anywhere), surrounded by random bytes, so a formatter that reads outside a range shows.
 */
function placeFields(rng: Rng, values: Uint8Array[], level: number, aligned: boolean): LogFields {
  let size = 8;
  for (const v of values) size += v.length + 24;
  const bytes = new Uint8Array((size + 7) & ~7);
  for (let i = 0; i < size; i++) bytes[i] = rng.chance(0.5) ? rng.pick([0x00, 0x0a, 0x5c, 0x7f, 0x09]) : rng.int(256);
  const fields = new LogFields();
  fields.bytes = bytes;
  // Usually with a word view (as the TCP decoder gives), sometimes without (as gRPC gives).
  if (rng.chance(0.7)) fields.words = new Int32Array(bytes.buffer);
  fields.level = level;
  let at = rng.int(8);
  for (let f = 0; f < FIELD_COUNT; f++) {
    at += rng.int(9);
    if (aligned) at = (at + 7) & ~7;
    bytes.set(values[f], at);
    fields.start[f] = at;
    fields.length[f] = values[f].length;
    at += values[f].length;
  }
  return fields;
}

function randomLevel(rng: Rng): number {
  return rng.chance(0.9) ? rng.int(12) : rng.chance(0.5) ? 12 + rng.int(20) : rng.int(65536);
}

function randomSequence(rng: Rng): number {
  const r = rng.int(4);
  if (r === 0) return rng.int(1000);
  if (r === 1) return rng.u32();
  if (r === 2) return rng.u32() * 2097152 + rng.int(2097152); // up to 2^53
  return 9_999_999_990 + rng.int(20);
}

/** Formats, then checks against the reference (with the server time the formatter chose, if any). */
function checkAgainstReference(out: ByteBuffer, sequence: number, fields: LogFields, values: Uint8Array[], context: string): void {
  const from = out.pos;
  formatLine(out, sequence, fields);
  const got = out.bytes.slice(from, out.pos);
  let serverTime = "";
  if (values[Field.timestamp].length === 0) {
    const at = Math.max(String(sequence).length, 10) + 1;
    serverTime = text.decode(got.subarray(at, at + 27));
    expect(serverTime).toMatch(SERVER_TIME);
  }
  const want = referenceLine(sequence, values, fields.level, serverTime);
  if (!Buffer.from(got).equals(Buffer.from(want))) {
    throw new Error(`${context}: formatter output differs from the reference\n got: ${JSON.stringify(text.decode(got))}\nwant: ${JSON.stringify(text.decode(want))}`);
  }
}

describe("formatLine: randomized against the reference formatter", () => {
  for (const aligned of [true, false]) {
    test(`random bytes at ${aligned ? "8-byte aligned" : "arbitrary"} offsets`, () => {
      for (let seed = 1; seed <= 4000; seed++) {
        const rng = new Rng(seed * 7919 + (aligned ? 1 : 0));
        const values = Array.from({ length: FIELD_COUNT }, () => randomValue(rng));
        if (rng.chance(0.8) && values[Field.timestamp].length === 0) values[Field.timestamp] = utf8.encode(TS);
        const fields = placeFields(rng, values, randomLevel(rng), aligned);
        // Mostly a roomy buffer, sometimes one that must grow mid-stream.
        const out = new ByteBuffer(rng.chance(0.2) ? 1 + rng.int(64) : 4096);
        out.pos = rng.int(Math.min(out.bytes.length, 9));
        checkAgainstReference(out, randomSequence(rng), fields, values, `seed ${seed}`);
      }
    });
  }

  test("through the real TCP decoder (aligned scratch buffer)", () => {
    const keys = [
      "timestamp", "hostname", "loggerName", "module", "filename", "functionName", "lineNumber", "message",
      "pathName", "processId", "processName", "threadId", "threadName", "serviceName", "stackTrace",
    ] as const;
    const alphabet = [..."abcdefghij KLMNOP0123456789-_.:/\\\n\r\t\x00\x01\x1f\x7féß日本🎉"];
    const fields = new LogFields();
    const out = new ByteBuffer(1024);
    for (let seed = 1; seed <= 1500; seed++) {
      const rng = new Rng(seed * 104729);
      const record: RecordText = { level: randomLevel(rng) };
      const values: Uint8Array[] = [];
      for (let f = 0; f < FIELD_COUNT; f++) {
        const n = rng.chance(0.3) ? 0 : rng.chance(0.05) ? rng.int(600) : rng.int(60);
        let s = "";
        for (let i = 0; i < n; i++) s += rng.chance(0.8) ? alphabet[rng.int(16)] : rng.pick(alphabet);
        if (f === Field.timestamp && s === "" && rng.chance(0.8)) s = TS;
        record[keys[f]] = s;
        values.push(utf8.encode(s));
      }
      const frame = logFrame(record);
      decodeLoggerFrame(frame, 4, frame.length, fields);
      out.reset();
      checkAgainstReference(out, randomSequence(rng), fields, values, `seed ${seed}`);
    }
  });
});
