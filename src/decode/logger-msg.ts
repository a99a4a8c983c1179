// Hot-path LoggerMsg decoder: packed TCP frame payload -> LogFields byte ranges, no per-message
// allocation. Layout (schema/logger.capnp): data word 0 holds `level` (UInt16 at byte 0); pointers
// 0..14 are the Text fields in Field order (src/record/log-fields.ts).

import { FIELD_COUNT, type LogFields } from "../record/log-fields.ts";
import { MessageReader } from "./message-reader.ts";
import { Scratch, unpackInto } from "./packed.ts";

// One reader and scratch per process: frames are decoded one at a time on the event loop. The scratch
// keeps the size of the largest message seen (at most MAX_UNPACKED_BYTES, see packed.ts).
const scratch = new Scratch(64 * 1024);
const reader = new MessageReader();

/**
 * Decode the packed LoggerMsg in `payload[start, end)` into `out`. `out.bytes` becomes the shared
 * scratch buffer, so the ranges stay valid only until the next decodeLoggerFrame call. Every field
 * is overwritten (absent/null Text = length 0; no data section = level 0; a level above 11 is passed
 * through as its number). Throws DecodeError on bad input, after which `out` may be half-written and
 * must be discarded. (A start/end outside `payload` is a caller bug and throws RangeError.)
 */
export function decodeLoggerFrame(payload: Uint8Array, start: number, end: number, out: LogFields): void {
  const length = unpackInto(payload, start, end, scratch);
  reader.load(scratch, length);
  readLoggerMsg(reader, out);
}

/** Fill `out` from the LoggerMsg root of the message loaded in `r`. */
export function readLoggerMsg(r: MessageReader, out: LogFields): void {
  r.readRootStruct();
  out.bytes = r.bytes;
  out.words = r.words;
  out.level = r.structDataWords > 0 ? r.bytes[r.structData] | (r.bytes[r.structData + 1] << 8) : 0;
  r.readStructTexts(out.start, out.length, FIELD_COUNT);
}
