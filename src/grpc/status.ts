// gRPC error statuses the server answers with, and a throttled operator warning for rejections
// (a misbehaving client can send thousands per second; the log gets one line per interval).
import { status, type ServerErrorResponse } from "@grpc/grpc-js";
import type { OpsLog } from "../ops-log.ts";

export function grpcError(code: status, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}

/** Reused for every refusal while shutting down (no allocation per refused call). */
export const SHUTTING_DOWN = grpcError(status.UNAVAILABLE, "the log server is shutting down; retry against a running instance");

/** Reused for every refusal at the backlog bound. */
export const BACKLOG_FULL = grpcError(
  status.RESOURCE_EXHAUSTED,
  "the log server's write backlog is at --max_pending_bytes; the record was not accepted, retry after a short delay",
);

const REPORT_INTERVAL_MS = 10_000;

export class RejectionReport {
  /** Calls refused, by gRPC status name (for /metrics). */
  readonly counts = { INVALID_ARGUMENT: 0, RESOURCE_EXHAUSTED: 0, UNAVAILABLE: 0 };
  #lastReport = Number.NEGATIVE_INFINITY;
  #unreported = 0;

  constructor(readonly ops: OpsLog) {}

  /** Counts a refusal; writes a warning at most once per interval, saying how many went unreported. */
  note(code: keyof RejectionReport["counts"], describe: () => string): void {
    this.counts[code]++;
    if (code === "UNAVAILABLE") return; // expected while stopping; the stop itself is logged
    const now = performance.now();
    if (now - this.#lastReport < REPORT_INTERVAL_MS) {
      this.#unreported++;
      return;
    }
    const more = this.#unreported > 0 ? ` (${this.#unreported} more gRPC requests were refused since the last report)` : "";
    this.#lastReport = now;
    this.#unreported = 0;
    this.ops.warn(`refused a gRPC request with ${code}: ${describe()}${more}`);
  }
}
