// Where every ingest protocol delivers decoded records: takes the next global sequence number,
// formats the line straight into the writer's staging buffer, and hands it over. TCP and gRPC
// share one instance, so they share one sequence and one file.
import { formatLine, maxLineBytes, maxNumberedBodyBytes, writeSequenceColumn } from "../format/line-format.ts";
import type { LogFields } from "../record/log-fields.ts";
import type { OrderedWriter } from "../writer/ordered-writer.ts";
import type { Sequencer } from "./sequencer.ts";

export type Protocol = "tcp" | "grpc";

export class RecordSink {
  /** Records accepted per protocol (for /metrics). */
  readonly received: Record<Protocol, number> = { tcp: 0, grpc: 0 };

  constructor(
    readonly sequencer: Sequencer,
    readonly writer: OrderedWriter,
  ) {}

  /** Accepts one decoded record; returns its sequence number. */
  accept(fields: LogFields, protocol: Protocol): number {
    const sequence = this.sequencer.take();
    const out = this.writer.lineBuffer(sequence, maxLineBytes(fields));
    formatLine(out, sequence, fields);
    this.writer.commitLine(sequence, out);
    this.received[protocol]++;
    return sequence;
  }

  /**
   * Accepts records a decode worker already formatted: `bodies` holds the lines without their sequence
   * column, back to back, ending at `ends[i]`. Each gets the next number, in order.
   */
  acceptBodies(bodies: Uint8Array, ends: Int32Array, protocol: Protocol): void {
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const sequence = this.sequencer.take();
      const out = this.writer.lineBuffer(sequence, maxNumberedBodyBytes(ends[i] - start));
      writeSequenceColumn(out, sequence);
      out.append(bodies, start, ends[i]);
      this.writer.commitLine(sequence, out);
      start = ends[i];
    }
    this.received[protocol] += ends.length;
  }
}
