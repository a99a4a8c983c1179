// The one shape every ingest protocol hands to the formatter: the text fields of one log record as
// byte ranges inside a buffer, plus the level. Decoders fill a reused instance instead of allocating
// strings per record (the hot path copies field bytes straight into the output line).

/** Text fields in Cap'n Proto pointer order (LoggerMsg pointer section; `level` lives in the data section). */
export const Field = {
  timestamp: 0,
  hostname: 1,
  loggerName: 2,
  module: 3,
  filename: 4,
  functionName: 5,
  lineNumber: 6,
  message: 7,
  pathName: 8,
  processId: 9,
  processName: 10,
  threadId: 11,
  threadName: 12,
  serviceName: 13,
  stackTrace: 14,
} as const;
export type Field = (typeof Field)[keyof typeof Field];
export const FIELD_COUNT = 15;

export class LogFields {
  /** Buffer the ranges point into; decoders may swap it (e.g. a grown scratch buffer). */
  bytes: Uint8Array = new Uint8Array(0);
  /**
   * Optional: the same memory as `bytes` as little-endian 32-bit words (`words[i]` = bytes 4i..4i+3),
   * or null. Lets the formatter read 4-byte-aligned fields a word at a time. Whoever sets `bytes` to
   * another buffer must set this too (null is always correct); the formatter ignores a view of
   * different memory.
   */
  words: Int32Array | null = null;
  /** Start offset of each field in `bytes`. */
  readonly start = new Int32Array(FIELD_COUNT);
  /** Byte length of each field (0 = empty / absent). Never includes a Cap'n Proto NUL terminator. */
  readonly length = new Int32Array(FIELD_COUNT);
  /** Raw level number; 0–11 are the named levels, anything else is written as its number. */
  level = 0;

  clear(): void {
    this.length.fill(0);
    this.level = 0;
  }
}
