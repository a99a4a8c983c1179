// LogRequestDecoder against protobufjs-encoded requests and hand-made malformed bytes.
import { describe, expect, test } from "bun:test";
import path from "node:path";
import protobuf from "protobufjs";
import { LogRequestDecoder } from "../../src/grpc/log-request.ts";
import { FIELD_COUNT } from "../../src/record/log-fields.ts";
import { PROTO_DIR } from "./support.ts";

const LogRequest = protobuf.loadSync(path.join(PROTO_DIR, "log_service.proto")).lookupType("logservice.LogRequest");
const encode = (value: object) => LogRequest.encode(LogRequest.fromObject(value)).finish();

/** LogFields order, with the proto field that feeds each. */
const TEXT_FIELDS = [
  "timestamp", "hostname", "loggerName", "module", "filename", "functionName", "lineNumber", "message",
  "pathName", "processId", "processName", "threadId", "threadName", "serviceName", "stackTrace",
];

function decodedStrings(decoder: LogRequestDecoder): string[] {
  const { bytes, start, length } = decoder.fields;
  const text = new TextDecoder();
  return Array.from({ length: FIELD_COUNT }, (_, i) => text.decode(bytes.subarray(start[i], start[i] + length[i])));
}

describe("LogRequestDecoder", () => {
  const decoder = new LogRequestDecoder();

  test("every field lands in its LogFields slot", () => {
    const value: Record<string, unknown> = { level: 11 };
    TEXT_FIELDS.forEach((name, i) => (value[name] = `${name}-${i}-é`));
    expect(decoder.decode(encode(value))).toBeNull();
    expect(decodedStrings(decoder)).toEqual(TEXT_FIELDS.map((name, i) => `${name}-${i}-é`));
    expect(decoder.fields.level).toBe(11);
  });

  test("an empty request is valid: all fields empty, level NOTSET", () => {
    decoder.decode(encode({ message: "x", level: 3 })); // leftovers from a previous request must not survive
    expect(decoder.decode(new Uint8Array(0))).toBeNull();
    expect(Array.from(decoder.fields.length)).toEqual(new Array(FIELD_COUNT).fill(0));
    expect(decoder.fields.level).toBe(0);
  });

  test("unknown fields of every wire type are skipped", () => {
    const known = encode({ message: "kept", level: 2 });
    const unknown = [
      0x88, 0x01, 0x96, 0x01, // field 17 varint
      0x91, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, // field 18 fixed64
      0x9a, 0x01, 0x03, 0x61, 0x62, 0x63, // field 19 bytes "abc"
      0xa5, 0x01, 1, 2, 3, 4, // field 20 fixed32
      0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01, // field 2^29 - 1, varint
    ];
    expect(decoder.decode(new Uint8Array([...unknown, ...known]))).toBeNull();
    expect(decodedStrings(decoder)[7]).toBe("kept");
    expect(decoder.fields.level).toBe(2);
  });

  test("a repeated field keeps its last value, as protobuf merges", () => {
    const bytes = new Uint8Array([...encode({ message: "first" }), ...encode({ message: "second" })]);
    expect(decoder.decode(bytes)).toBeNull();
    expect(decodedStrings(decoder)[7]).toBe("second");
  });

  test.each([
    [12, "level 12 is not a Level"],
    [255, "level 255 is not a Level"],
    [-1, "level -1 is not a Level"],
  ])("level %d is refused", (level, why) => {
    expect(decoder.decode(encode({ level }))).toContain(why);
  });

  test.each([
    ["a truncated string", new Uint8Array([0x4a, 0x05, 0x61, 0x62])],
    ["a truncated varint", new Uint8Array([0x28, 0x80])],
    ["a truncated tag", new Uint8Array([0x80])],
    ["field number 0", new Uint8Array([0x02, 0x00])],
    ["a group (wire type 3)", new Uint8Array([0x4b])],
    ["wire type 7", new Uint8Array([0x4f])],
    ["a string field sent as a varint", new Uint8Array([0x48, 0x01])],
    ["level sent as a string", new Uint8Array([0x2a, 0x01, 0x03])],
    ["a string field sent as fixed32", new Uint8Array([0x4d, 1, 2, 3, 4])],
  ])("%s is refused", (_, bytes) => {
    expect(decoder.decode(bytes)).toBeString();
  });

  test("long fields (length prefixes above 0x7f) and multi-byte UTF-8 are accepted", () => {
    const message = `${"x".repeat(300)} — ü 日本 🚀`;
    expect(decoder.decode(encode({ message, stackTrace: "y".repeat(70_000) }))).toBeNull();
    expect(decodedStrings(decoder)[7]).toBe(message);
    expect(decodedStrings(decoder)[14]).toHaveLength(70_000);
  });

  test("invalid UTF-8 in a string field is refused, naming the field", () => {
    const bytes = new Uint8Array([0x1a, 0x02, 0xc3, 0x28]); // logger_name = C3 28
    expect(decoder.decode(bytes)).toBe("logger_name is not valid UTF-8");
  });
});
