// Decodes one serialized logservice.LogRequest straight into LogFields: each string field becomes
// a byte range inside the request buffer, so no JS strings are created and the formatter copies the
// UTF-8 bytes as they arrived. Field numbers (see proto/log_service.proto):
//   1 timestamp, 2 hostname, 3 logger_name, 4 module, 5 level, 6 filename, 7 function_name,
//   8 line_number, 9 message, 10 path_name, 11 process_id, 12 process_name, 13 thread_id,
//   14 thread_name, 15 service_name, 16 stack_trace
// i.e. LogFields order with `level` taken out. As protobuf requires: unknown fields are skipped, a
// repeated field keeps its last value, and strings must be valid UTF-8.
// A request that is not acceptable yields a sentence saying why (sent back as INVALID_ARGUMENT).
import { isAscii, isUtf8 } from "node:buffer";
import { LEVEL_NAMES } from "../format/line-format.ts";
import { FIELD_COUNT, LogFields } from "../record/log-fields.ts";

export const LEVEL_FIELD_NUMBER = 5;
export const MAX_LEVEL = LEVEL_NAMES.length - 1;

/** LogRequest field number → LogFields index, or -1 (level, unknown). */
const TEXT_FIELD_INDEX = new Int8Array(32).fill(-1);
for (let number = 1; number <= 16; number++) {
  if (number !== LEVEL_FIELD_NUMBER) TEXT_FIELD_INDEX[number] = number < LEVEL_FIELD_NUMBER ? number - 1 : number - 2;
}

/** Proto field names by LogFields index, for error messages. */
const FIELD_NAMES = [
  "timestamp", "hostname", "logger_name", "module", "filename", "function_name", "line_number", "message",
  "path_name", "process_id", "process_name", "thread_id", "thread_name", "service_name", "stack_trace",
] as const;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** Decoder state; one instance is reused for every request (decoding is synchronous). */
export class LogRequestDecoder {
  readonly fields = new LogFields();
  #pos = 0;

  /**
   * Fills `this.fields` from one serialized LogRequest. Returns null when the request is acceptable,
   * otherwise a sentence saying why not. `this.fields` points into `bytes` until the next call.
   */
  decode(bytes: Uint8Array): string | null {
    const fields = this.fields;
    fields.bytes = bytes;
    fields.length.fill(0);
    fields.level = 0;
    const end = bytes.length;
    this.#pos = 0;
    while (this.#pos < end) {
      const tagAt = this.#pos;
      this.#varint32(bytes);
      if (this.#pos > end) return `the request is not a LogRequest (bad field tag at byte ${tagAt})`;
      const tag = this.#lastVarintLow32 >>> 0; // field numbers go up to 2^29 - 1
      const number = tag >>> 3;
      const wireType = tag & 7;
      const index = number < 32 ? TEXT_FIELD_INDEX[number] : -1;
      if (number === 0) return `the request is not a LogRequest (field number 0 at byte ${tagAt})`;

      if (wireType === WIRE_LENGTH_DELIMITED) {
        const length = this.#varint32(bytes);
        if (length < 0 || length > end - this.#pos) return `the request is not a LogRequest (field ${number} is cut off)`;
        if (index >= 0) {
          fields.start[index] = this.#pos;
          fields.length[index] = length;
        } else if (number === LEVEL_FIELD_NUMBER) {
          return "level must be an enum value (varint), not a length-delimited field";
        }
        this.#pos += length;
      } else if (wireType === WIRE_VARINT) {
        if (index >= 0) return `${FIELD_NAMES[index]} must be a string (field ${number}), not a varint`;
        const value = this.#varint32(bytes);
        if (value === -1 && this.#pos > end) return `the request is not a LogRequest (field ${number} is cut off)`;
        if (number === LEVEL_FIELD_NUMBER) fields.level = this.#lastVarintLow32;
      } else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
        if (index >= 0 || number === LEVEL_FIELD_NUMBER) return `field ${number} has the wrong wire type (${wireType})`;
        this.#pos += wireType === WIRE_FIXED64 ? 8 : 4;
        if (this.#pos > end) return `the request is not a LogRequest (field ${number} is cut off)`;
      } else {
        return `the request is not a LogRequest (unsupported wire type ${wireType} for field ${number})`;
      }
    }

    const level = fields.level;
    if (level < 0 || level > MAX_LEVEL) {
      return `level ${level} is not a Level; use 0 (NOTSET) to ${MAX_LEVEL} (${LEVEL_NAMES[MAX_LEVEL]})`;
    }
    // Protobuf strings must be UTF-8. An all-ASCII request (the common case) needs no closer look.
    return isAscii(bytes) ? null : this.#checkUtf8(bytes);
  }

  /** Checks each field holding bytes above 0x7f (the native check sees only those fields). */
  #checkUtf8(bytes: Uint8Array): string | null {
    const { start, length } = this.fields;
    for (let i = 0; i < FIELD_COUNT; i++) {
      const n = length[i];
      if (n === 0) continue;
      const from = start[i];
      const to = from + n;
      let high = 0;
      for (let j = from; j < to; j++) high |= bytes[j];
      if (high & 0x80 && !isUtf8(bytes.subarray(from, to))) return `${FIELD_NAMES[i]} is not valid UTF-8`;
    }
    return null;
  }

  /** Low 32 bits (signed) of the last varint read: how protobuf reads an int32 / enum value. */
  #lastVarintLow32 = 0;

  /**
   * Reads a varint of up to 10 bytes. Returns it when it fits in 0..2^31-1, else -1 (a huge value, a
   * negative int32, or running off the end; the latter leaves #pos past the end).
   */
  #varint32(bytes: Uint8Array): number {
    let pos = this.#pos;
    const end = bytes.length;
    let low = 0;
    let fits = true;
    for (let shift = 0; ; shift += 7) {
      if (pos >= end || shift >= 70) {
        this.#pos = end + 1;
        this.#lastVarintLow32 = 0;
        return -1;
      }
      const b = bytes[pos++];
      if (shift < 32) low |= (b & 0x7f) << shift;
      if (shift >= 28 && (shift === 28 ? b & 0x78 : b & 0x7f)) fits = false;
      if ((b & 0x80) === 0) break;
    }
    this.#pos = pos;
    this.#lastVarintLow32 = low | 0;
    return fits && low >= 0 ? low : -1;
  }
}
