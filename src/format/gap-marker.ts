// The line written in place of sequence numbers that never reached the writer (see OrderedWriter's
// gap timeout). It is formatted like a record — first column the first missing number, level ERROR
// (data was lost), logger "log_server" — so tools that parse the file need no special case.
import { hostname } from "node:os";
import { Field } from "../record/log-fields.ts";
import { StringFieldsEncoder } from "../record/fields-from-strings.ts";
import { ByteBuffer } from "./byte-buffer.ts";
import { formatLine } from "./line-format.ts";

const LEVEL_ERROR = 10;
const encoder = new StringFieldsEncoder();
const serverHost = hostname();

export function gapMarkerLine(first: number, last: number, waitedMs: number): Uint8Array {
  const values: string[] = [];
  values[Field.hostname] = serverHost;
  values[Field.loggerName] = "log_server";
  values[Field.message] =
    `GAP: sequence ${first === last ? first : `${first}..${last}`} never reached the writer within ${waitedMs} ms; later records follow`;
  const out = new ByteBuffer(256);
  formatLine(out, first, encoder.encode(values, LEVEL_ERROR));
  return out.bytes.slice(0, out.pos);
}
