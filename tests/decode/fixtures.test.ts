// Frames produced by the C++ reference implementation (Debian `capnp encode`, see
// scripts/make-capnp-fixtures.sh) must decode to the values in their .txt sources.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeHelloFrame, isUnpackedHello } from "../../src/decode/hello-msg.ts";
import { decodeLoggerFrame } from "../../src/decode/logger-msg.ts";
import { Field, FIELD_COUNT, LogFields } from "../../src/record/log-fields.ts";
import { decodeRef, toDecoded } from "./support.ts";

const dir = join(import.meta.dir, "../fixtures/capnp");
const load = (name: string) => new Uint8Array(readFileSync(join(dir, `${name}.bin`)));

type Expected = { level: number } & Partial<Record<keyof typeof Field, string>>;

const LEVEL = { notset: 0, debug: 1, info: 3, report: 8, warning: 9, error: 10, critical: 11, trade: 6 };

const allFields: Expected = {
  timestamp: "2026-05-18T10:00:00.123456789Z",
  hostname: "web-01.prod.example.com",
  loggerName: "app.http",
  module: "handlers",
  level: LEVEL.info,
  filename: "handlers.py",
  functionName: "get_order",
  lineNumber: "142",
  message: "GET /api/orders/8812 200 in 12.4 ms",
  pathName: "/srv/app/handlers.py",
  processId: "4711",
  processName: "gunicorn",
  threadId: "140233",
  threadName: "MainThread",
  serviceName: "orders",
  stackTrace: 'Traceback (most recent call last):\n  File "x.py", line 1',
};

const longMessage = "The quick brown fox jumps over the lazy dog 0123456789 ABCDEFGH.".repeat(1024);
const long: Expected = { timestamp: "2026-05-18T10:00:00.000001Z", hostname: "bulk", level: LEVEL.info, message: longMessage };

const cases: Record<string, Expected> = {
  "all-fields": allFields,
  "multi-segment": allFields,
  "some-fields": { timestamp: "2025-01-28 12:34:56.123456", hostname: "db-7", level: LEVEL.warning, message: "slow query" },
  unicode: {
    timestamp: "2026-04-02T10:00:00+02:00",
    hostname: "hôte-ünïcödé",
    loggerName: "日本語ロガー",
    level: LEVEL.error,
    message: "emoji 🎉🚀 — ‘quotes’ ✓ Ωμέγα 中文",
    threadName: "ñ",
  },
  "empty-strings": { level: LEVEL.debug },
  newline: {
    timestamp: "2026-05-18T10:00:00Z",
    hostname: "h",
    level: LEVEL.report,
    message: 'line one\nline two\r\n\ttabbed "quoted" back\\slash',
    stackTrace: "a\nb\nc\n",
  },
  critical: { timestamp: "2026-05-18T10:00:00Z", hostname: "core-1", loggerName: "kernel", level: LEVEL.critical, message: "disk on fire" },
  "null-pointers": { level: LEVEL.notset },
  "long-64k": long,
  "long-64k-multi-segment": long,
  "v0-old-schema": { timestamp: "2020-01-01T00:00:00Z", hostname: "legacy-host", loggerName: "old", module: "m0", level: 0 },
  "v2-new-schema": {
    timestamp: "2030-01-01T00:00:00Z",
    hostname: "future-host",
    level: LEVEL.trade,
    message: "from the future",
    stackTrace: "st",
  },
};

function expectedFields(e: Expected): string[] {
  const names = Object.keys(Field) as (keyof typeof Field)[];
  return names.map((n) => e[n] ?? "");
}

describe("capnp tool fixtures", () => {
  for (const [name, expected] of Object.entries(cases)) {
    test(name, () => {
      const frame = load(name);
      expect(isUnpackedHello(frame, 0, frame.length)).toBe(false);
      const out = new LogFields();
      decodeLoggerFrame(frame, 0, frame.length, out);
      const got = toDecoded(out);
      expect(got.level).toBe(expected.level);
      expect(got.fields).toEqual(expectedFields(expected));
      // And the reference reader agrees.
      expect(decodeRef(frame)).toEqual(got);
    });
  }

  test("a frame inside a larger buffer (offsets honoured)", () => {
    const frame = load("all-fields");
    const buf = new Uint8Array(frame.length + 10).fill(0xee);
    buf.set(frame, 7);
    const out = new LogFields();
    decodeLoggerFrame(buf, 7, 7 + frame.length, out);
    expect(toDecoded(out).fields).toEqual(expectedFields(allFields));
  });

  test("empty Text as a one-byte NUL list and as a null pointer both read as empty", () => {
    const out = new LogFields();
    for (const name of ["empty-strings", "null-pointers"]) {
      out.length.fill(99);
      const frame = load(name);
      decodeLoggerFrame(frame, 0, frame.length, out);
      for (let i = 0; i < FIELD_COUNT; i++) expect(out.length[i]).toBe(0);
    }
  });

  test("hello handshake (unpacked)", () => {
    const frame = load("hello");
    expect(isUnpackedHello(frame, 0, frame.length)).toBe(true);
    expect(decodeHelloFrame(frame, 0, frame.length)).toEqual({
      fromName: "order-service",
      fromHost: "web-01",
      fromAddress: "10.0.0.5:51234",
      toAddress: "10.0.0.1:9020",
      fromPublicIP: "203.0.113.7",
    });
  });
});
