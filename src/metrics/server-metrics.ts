// What /metrics reports and what /readyz decides, read from the running server's own counters
// (plain fields the hot path increments; see WriterStats, RecordSink.received, TcpListener.rejected,
// RejectionReport.counts). Everything is read at scrape time; nothing here runs per record.
import type { DecodeReason } from "../decode/decode-error.ts";
import type { WriterStats } from "../writer/ordered-writer.ts";
import type { Protocol } from "../pipeline/record-sink.ts";
import { Exposition } from "./exposition.ts";

/** The parts of a running LogServer that metrics and readiness read (LogServer itself fits). */
export interface MetricsSource {
  readonly writer: {
    readonly stats: Readonly<WriterStats>;
    readonly settled: number;
    readonly healthy: boolean;
    readonly pendingBytes: number;
    readonly pendingRecords: number;
    readonly filePath: string;
  };
  readonly sink: { readonly received: Readonly<Record<Protocol, number>> };
  readonly tcp: {
    readonly connections: { readonly size: number };
    readonly paused: { readonly size: number };
    /** Connections the listener ended or refused, by reason (a rejected frame's reason, a timeout, …). */
    readonly rejected: ReadonlyMap<string, number>;
  } | null;
  readonly grpc: {
    readonly rejections: { readonly counts: Readonly<Record<string, number>> };
    readonly ingest: { readonly activeStreams: number };
    readonly acks: { readonly pending: number };
  } | null;
  /** True from the moment stop() begins. */
  readonly stopping: boolean;
}

export const NAMESPACE = "log_server";

/**
 * Reasons always present on the closed-connections counter (at 0 until they happen), so a query or an
 * alert on one finds a series from the first scrape. Other reasons appear once counted.
 */
const DECODE_REASONS = {
  "truncated-packed": true,
  "too-large": true,
  "not-word-aligned": true,
  "segment-table": true,
  "pointer-out-of-bounds": true,
  "far-pointer": true,
  "wrong-root-type": true,
  "not-text": true,
  "text-not-terminated": true,
  "traversal-limit": true,
} satisfies Record<DecodeReason, true>;
/** "oversize": the frame parser's length check; "internal": a decoder bug (see describeError in src/tcp/chunk-decoder.ts). */
export const KNOWN_CLOSE_REASONS: readonly string[] = ["oversize", ...Object.keys(DECODE_REASONS), "internal"].sort();

const PROTOCOLS: readonly Protocol[] = ["tcp", "grpc"];

/** The /metrics page. */
export function renderMetrics(source: MetricsSource, version: string): string {
  const { writer, sink, tcp, grpc } = source;
  const stats = writer.stats;
  const m = new Exposition();
  const name = (suffix: string) => `${NAMESPACE}_${suffix}`;

  m.labelled("gauge", name("build_info"), "Always 1; the label carries the server version.", "version", [[version, 1]]);

  // Ingestion.
  m.labelled(
    "counter",
    name("received_records_total"),
    "Records accepted from clients and given a sequence number, by ingest protocol.",
    "protocol",
    PROTOCOLS.map((protocol) => [protocol, sink.received[protocol]] as const),
  );
  m.single("gauge", name("tcp_open_connections"), "TCP (Cap'n Proto) connections open now.", tcp?.connections.size ?? 0);
  m.single(
    "gauge",
    name("tcp_paused_connections"),
    "TCP connections not being read because the write backlog is at --max_pending_bytes.",
    tcp?.paused.size ?? 0,
  );
  m.labelled(
    "counter",
    name("tcp_closed_connections_total"),
    "TCP connections the server closed or refused, by reason: a rejected frame's reason (oversize or a Cap'n Proto " +
      "decode error; internal means a server bug), or a connection rule (timeouts, --max_connections).",
    "reason",
    closeReasons(tcp?.rejected),
  );
  if (grpc) {
    m.labelled(
      "counter",
      name("grpc_rejected_requests_total"),
      "gRPC calls or stream messages refused, by status code.",
      "code",
      Object.entries(grpc.rejections.counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    m.single("gauge", name("grpc_open_streams"), "LogStream calls in progress.", grpc.ingest.activeStreams);
    m.single(
      "gauge",
      name("grpc_pending_acks"),
      "gRPC answers waiting for their records to reach the file.",
      grpc.acks.pending,
    );
  }

  // Writing.
  m.single("counter", name("written_records_total"), "Records written to the log file (gap marker lines included).", stats.recordsWritten);
  m.single("counter", name("written_bytes_total"), "Bytes written to the log file.", stats.bytesWritten);
  m.single("counter", name("written_batches_total"), "Write calls that completed a batch of lines.", stats.batches);
  m.single("counter", name("file_rotations_total"), "Times _main.log was rotated to _main.log.0.", stats.rotations);
  m.single("counter", name("fsyncs_total"), "Completed fsync calls on the log file.", stats.fsyncs);
  m.single(
    "counter",
    name("write_errors_total"),
    "Failed file operations (write, rotate, fsync, reopen); each is retried, nothing is dropped.",
    stats.writeErrors,
  );
  m.single("counter", name("write_retries_total"), "Retries of failed file operations after their backoff delay.", stats.writeRetries);
  m.single(
    "counter",
    name("sequence_gaps_total"),
    "Gap marker lines written for sequence numbers that did not reach the writer within --gap_timeout_ms.",
    stats.gaps,
  );
  m.single(
    "counter",
    name("late_records_total"),
    "Records written after their sequence number had been given up as a gap.",
    stats.lateRecords,
  );
  m.single("gauge", name("pending_records"), "Records received but not yet written.", writer.pendingRecords);
  m.single("gauge", name("pending_bytes"), "Bytes received but not yet written: formatted lines waiting for the writer, plus TCP reads still being decoded.", writer.pendingBytes);
  m.single(
    "gauge",
    name("last_written_sequence"),
    "Highest sequence number that, with every one before it, is in the file (-1 before the first).",
    writer.settled,
  );
  m.single("gauge", name("writer_healthy"), "1 while the log file takes writes, 0 while file operations keep failing.", writer.healthy ? 1 : 0);
  return m.text();
}

function closeReasons(counted: ReadonlyMap<string, number> | undefined): Array<readonly [string, number]> {
  const reasons = new Set([...KNOWN_CLOSE_REASONS, ...(counted?.keys() ?? [])]);
  return [...reasons].sort().map((reason) => [reason, counted?.get(reason) ?? 0] as const);
}

/** null when ready to take records; otherwise the one-line reason /readyz answers 503 with. */
export function notReadyReason(source: MetricsSource): string | null {
  if (source.stopping) return "not ready: the server is shutting down";
  if (!source.writer.healthy) {
    return `not ready: file operations on ${source.writer.filePath} keep failing; received records are queued and retried`;
  }
  return null;
}
