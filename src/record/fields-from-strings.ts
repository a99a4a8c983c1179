// Fills a LogFields from JS strings (the server's own lines, such as the gap marker): each string is
// UTF-8 encoded once into a reused scratch buffer, then the common line formatter takes over.
import { FIELD_COUNT, LogFields } from "./log-fields.ts";

const encoder = new TextEncoder();

export class StringFieldsEncoder {
  readonly fields = new LogFields();
  #scratch = new Uint8Array(4096);

  /** `values[i]` is field i in LogFields order; missing or empty values become empty fields. */
  encode(values: ReadonlyArray<string | undefined | null>, level: number): LogFields {
    let need = 0;
    for (let i = 0; i < FIELD_COUNT; i++) need += (values[i]?.length ?? 0) * 3; // UTF-8 worst case per UTF-16 unit
    if (need > this.#scratch.length) this.#scratch = new Uint8Array(Math.max(need, this.#scratch.length * 2));
    const scratch = this.#scratch;
    const fields = this.fields;
    fields.bytes = scratch;
    fields.level = level;
    let pos = 0;
    for (let i = 0; i < FIELD_COUNT; i++) {
      const value = values[i];
      fields.start[i] = pos;
      if (!value) {
        fields.length[i] = 0;
        continue;
      }
      const { written } = encoder.encodeInto(value, scratch.subarray(pos));
      fields.length[i] = written;
      pos += written;
    }
    return fields;
  }
}
