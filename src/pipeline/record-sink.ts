// Where every ingest protocol delivers decoded records: takes the next global sequence number,
// formats the line straight into the writer's staging buffer, and hands it over. TCP and gRPC
// share one instance, so they share one sequence and one file.
import { formatLine, maxLineBytes } from "../format/line-format.ts";
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
   * Accepts records a decode worker already formatted and numbered (with `sequencer.takeRange`):
   * lines `first` … `first + ends.length - 1` in `lines`, line i ending at `ends[i]`.
   */
  acceptNumbered(first: number, lines: Uint8Array, ends: Int32Array, protocol: Protocol): void {
    this.writer.commitLines(first, lines, ends);
    this.received[protocol] += ends.length;
  }
}
