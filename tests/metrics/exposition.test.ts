// The /metrics page and the /healthz, /readyz answers, from a fake server state (no process, no sockets).
import { describe, expect, test } from "bun:test";
import { escapeLabelValue, Exposition } from "../../src/metrics/exposition.ts";
import { MetricsServer } from "../../src/metrics/metrics-server.ts";
import { KNOWN_CLOSE_REASONS, type MetricsSource, notReadyReason, renderMetrics } from "../../src/metrics/server-metrics.ts";
import { OpsLog } from "../../src/ops-log.ts";
import { parseExposition } from "./support.ts";

function fakeSource(withGrpc: boolean) {
  return {
    writer: {
      stats: { recordsWritten: 7, bytesWritten: 700, batches: 2, rotations: 1, writeErrors: 3, writeRetries: 2, gaps: 1, lateRecords: 4, fsyncs: 5 },
      settled: 6,
      healthy: true,
      pendingBytes: 123,
      pendingRecords: 2,
      filePath: "/var/log/x/_main.log",
    },
    sink: { received: { tcp: 5, grpc: 4 } },
    tcp: { connections: { size: 3 }, paused: { size: 1 }, rejected: new Map([["segment-table", 2], ["idle-timeout", 1]]) },
    grpc: withGrpc ? { rejections: { counts: { INVALID_ARGUMENT: 1, RESOURCE_EXHAUSTED: 0, UNAVAILABLE: 2 } }, ingest: { activeStreams: 1 }, acks: { pending: 9 } } : null,
    stopping: false,
  } satisfies MetricsSource;
}

describe("renderMetrics", () => {
  test("every figure under its name, with HELP and TYPE; counters end in _total", () => {
    const families = parseExposition(renderMetrics(fakeSource(true), "1.2.3"));
    const value = (name: string, labels = "") => families.get(name)?.samples.get(name + labels);
    expect(value("log_server_build_info", '{version="1.2.3"}')).toBe(1);
    expect(value("log_server_received_records_total", '{protocol="tcp"}')).toBe(5);
    expect(value("log_server_received_records_total", '{protocol="grpc"}')).toBe(4);
    expect(value("log_server_written_records_total")).toBe(7);
    expect(value("log_server_written_bytes_total")).toBe(700);
    expect(value("log_server_written_batches_total")).toBe(2);
    expect(value("log_server_file_rotations_total")).toBe(1);
    expect(value("log_server_write_errors_total")).toBe(3);
    expect(value("log_server_write_retries_total")).toBe(2);
    expect(value("log_server_fsyncs_total")).toBe(5);
    expect(value("log_server_sequence_gaps_total")).toBe(1);
    expect(value("log_server_late_records_total")).toBe(4);
    expect(value("log_server_pending_records")).toBe(2);
    expect(value("log_server_pending_bytes")).toBe(123);
    expect(value("log_server_last_written_sequence")).toBe(6);
    expect(value("log_server_writer_healthy")).toBe(1);
    expect(value("log_server_tcp_open_connections")).toBe(3);
    expect(value("log_server_tcp_paused_connections")).toBe(1);
    expect(value("log_server_tcp_closed_connections_total", '{reason="segment-table"}')).toBe(2);
    expect(value("log_server_tcp_closed_connections_total", '{reason="idle-timeout"}')).toBe(1);
    // Known reasons are there from the start, at 0.
    for (const reason of KNOWN_CLOSE_REASONS.filter((r) => r !== "segment-table")) {
      expect(value("log_server_tcp_closed_connections_total", `{reason="${reason}"}`)).toBe(0);
    }
    expect(value("log_server_grpc_rejected_requests_total", '{code="INVALID_ARGUMENT"}')).toBe(1);
    expect(value("log_server_grpc_rejected_requests_total", '{code="UNAVAILABLE"}')).toBe(2);
    expect(value("log_server_grpc_open_streams")).toBe(1);
    expect(value("log_server_grpc_pending_acks")).toBe(9);
    for (const [name, family] of families) {
      expect(name.startsWith("log_server_")).toBe(true);
      expect(family.help.length).toBeGreaterThan(10);
      expect(name.endsWith("_total")).toBe(family.type === "counter");
    }
  });

  test("gRPC families only when gRPC runs; received by protocol always has both protocols", () => {
    const families = parseExposition(renderMetrics(fakeSource(false), "1.2.3"));
    expect([...families.keys()].filter((name) => name.includes("grpc"))).toEqual([]);
    expect([...families.get("log_server_received_records_total")!.samples.keys()]).toEqual([
      'log_server_received_records_total{protocol="tcp"}',
      'log_server_received_records_total{protocol="grpc"}',
    ]);
  });

  test("writer unhealthy → 0", () => {
    const source = fakeSource(false);
    const families = parseExposition(renderMetrics({ ...source, writer: { ...source.writer, healthy: false } }, "1"));
    expect(families.get("log_server_writer_healthy")!.samples.get("log_server_writer_healthy")).toBe(0);
  });
});

describe("Exposition", () => {
  test("escapes label values and help text; special values", () => {
    const text = new Exposition()
      .labelled("gauge", "x_info", 'a \\ b\nc "d"', "v", [['q"u\\o\nte', Number.NaN]])
      .single("gauge", "y", "h", Number.POSITIVE_INFINITY)
      .text();
    expect(text).toBe(
      '# HELP x_info a \\\\ b\\nc "d"\n# TYPE x_info gauge\nx_info{v="q\\"u\\\\o\\nte"} NaN\n# HELP y h\n# TYPE y gauge\ny +Inf\n',
    );
    expect(escapeLabelValue("plain")).toBe("plain");
  });

  test("refuses invalid or repeated names", () => {
    expect(() => new Exposition().single("gauge", "bad-name", "h", 1)).toThrow();
    expect(() => new Exposition().labelled("gauge", "ok", "h", "bad-label", [])).toThrow();
    expect(() => new Exposition().single("gauge", "a", "h", 1).single("gauge", "a", "h", 1)).toThrow();
  });
});

describe("readiness", () => {
  test("ready; not ready while stopping or while the writer is unhealthy, with a one-line reason", () => {
    const source = fakeSource(false);
    expect(notReadyReason(source)).toBeNull();
    expect(notReadyReason({ ...source, stopping: true })).toBe("not ready: the server is shutting down");
    const sick = notReadyReason({ ...source, writer: { ...source.writer, healthy: false } });
    expect(sick).toContain("/var/log/x/_main.log");
    expect(sick).not.toContain("\n");
  });
});

describe("MetricsServer.handle", () => {
  const source = { ...fakeSource(false) } as { -readonly [K in keyof MetricsSource]: MetricsSource[K] };
  const server = new MetricsServer({ host: "127.0.0.1", port: 1, source, version: "9.9.9", ops: new OpsLog("Test") });
  const call = (path: string, method = "GET") => server.handle(new Request(`http://127.0.0.1${path}`, { method }));

  test("routes, content types, 404, 405 with Allow", async () => {
    const metrics = call("/metrics?x=1");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await metrics.text()).toContain('log_server_build_info{version="9.9.9"} 1');
    expect(call("/healthz").status).toBe(200);
    expect(await call("/healthz").text()).toBe("ok\n");
    expect(call("/readyz").status).toBe(200);
    expect(call("/healthz", "HEAD").status).toBe(200);
    for (const path of ["/", "/metric", "/metrics/", "/healthz/x", "/favicon.ico"]) expect(call(path).status).toBe(404);
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const response = call("/metrics", method);
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
    }
    expect(call("/nope", "POST").status).toBe(404);
  });

  test("/readyz follows the server: 503 with the reason while stopping, /healthz stays 200", async () => {
    source.stopping = true;
    const ready = call("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.text()).toBe("not ready: the server is shutting down\n");
    expect(call("/healthz").status).toBe(200);
    source.stopping = false;
  });
});
