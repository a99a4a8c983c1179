// The metrics HTTP server on --host:--metrics_port (Bun.serve):
//   GET /metrics  Prometheus text format 0.0.4, rendered when scraped
//   GET /healthz  liveness: 200 "ok" while the process serves HTTP at all (also during shutdown)
//   GET /readyz   readiness: 200 "ok" while the writer is healthy and the server is not stopping,
//                 else 503 with a one-line reason
// HEAD is answered like GET without a body; other methods get 405, other paths 404.
import type { Server } from "bun";
import type { OpsLog } from "../ops-log.ts";
import { EXPOSITION_CONTENT_TYPE } from "./exposition.ts";
import { type MetricsSource, notReadyReason, renderMetrics } from "./server-metrics.ts";

export interface MetricsServerOptions {
  host: string;
  /** Must not be 0 here: --metrics_port 0 means no metrics server, and the caller starts none. */
  port: number;
  source: MetricsSource;
  version: string;
  ops: OpsLog;
}

const TEXT = "text/plain; charset=utf-8";
const ALLOWED_METHODS = "GET, HEAD";

export class MetricsServer {
  #server: Server<undefined> | null = null;
  readonly #routes: ReadonlyMap<string, () => Response>;

  constructor(readonly options: MetricsServerOptions) {
    this.#routes = new Map([
      ["/metrics", () => this.#metrics()],
      ["/healthz", () => text(200, "ok")],
      ["/readyz", () => this.#readyz()],
    ]);
  }

  /** The bound port (after start). */
  get port(): number {
    return this.#server?.port ?? 0;
  }

  /** Binds --host:--metrics_port; throws (with the error's `code`, e.g. EADDRINUSE) if it cannot. */
  start(): void {
    this.#server = Bun.serve({
      hostname: this.options.host,
      port: this.options.port,
      development: false,
      // Requests here have no body worth reading.
      maxRequestBodySize: 64 * 1024,
      idleTimeout: 30,
      fetch: (request) => this.handle(request),
      error: (error) => {
        this.options.ops.warn(`the metrics server failed to answer a request: ${error.message}`);
        return text(500, "internal error");
      },
    });
  }

  /** Answers one request (exposed for tests). */
  handle(request: Request): Response {
    const route = this.#routes.get(new URL(request.url).pathname);
    if (!route) return text(404, "not found");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(`method ${request.method} not allowed; use GET\n`, {
        status: 405,
        headers: { "Content-Type": TEXT, Allow: ALLOWED_METHODS },
      });
    }
    return route();
  }

  /** Closes the listening socket and any open scrape connections. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    await server?.stop(true);
  }

  #metrics(): Response {
    return new Response(renderMetrics(this.options.source, this.options.version), {
      headers: { "Content-Type": EXPOSITION_CONTENT_TYPE, "Cache-Control": "no-store" },
    });
  }

  #readyz(): Response {
    const reason = notReadyReason(this.options.source);
    return reason === null ? text(200, "ok") : text(503, reason);
  }
}

function text(status: number, body: string): Response {
  return new Response(`${body}\n`, { status, headers: { "Content-Type": TEXT, "Cache-Control": "no-store" } });
}
