// The metrics HTTP server of the real server process: the figures on /metrics equal what clients
// sent, /healthz and /readyz answer, and --metrics_port 0 starts nothing.
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { concat, frame, HEARTBEAT, logFrame } from "../support/frames.ts";
import { checkNumberedRecords } from "../support/numbered-records.ts";
import { connectTcp, MAIN, type ServerProcess, startServer, tempDir, writeAll } from "../support/server-process.ts";
import { LogClient, RawClient } from "../grpc/support.ts";
import { freePort, scrape, scrapeUntil } from "./support.ts";

let server: ServerProcess | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

const VERSION = (await Bun.file(path.join(import.meta.dir, "../../package.json")).json()).version as string;

function numbered(conn: number, n: number): Uint8Array {
  return logFrame({ timestamp: "2026-05-18T10:00:00.123456789Z", hostname: `host${conn}`, loggerName: "metrics", level: 3, message: `conn=${conn} n=${n}` });
}

/** Sends `bytes` on a connection of its own and waits until the server has closed it (a rejected frame). */
async function sendRejected(port: number, bytes: Uint8Array): Promise<void> {
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closed = resolve));
  const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, close: () => closed(), error() {} } });
  socket.write(bytes);
  await Promise.race([whenClosed, Bun.sleep(10_000).then(() => Promise.reject(new Error("the server kept a bad connection open")))]);
}

/** Bad frames of known rejection reasons: reason → frames of that kind (each on its own connection). */
const BAD_FRAMES: Record<string, Uint8Array[]> = {
  // A length over the 10 MiB limit.
  oversize: [new Uint8Array([0x7f, 0xff, 0xff, 0xff]), new Uint8Array([0xff, 0xff, 0xff, 0xff])],
  // Tag 0xff promises a full word and a run count; only 3 bytes follow.
  "truncated-packed": [frame(new Uint8Array([0xff, 1, 2, 3]))],
  // One packed word whose first half says 2^32 segments.
  "segment-table": [frame(new Uint8Array([0x0f, 0xff, 0xff, 0xff, 0xff]))],
};

function fileBytes(dir: string): { total: number; backups: number } {
  let total = 0;
  let backups = 0;
  for (const name of readdirSync(dir)) {
    if (name !== "_main.log" && !name.startsWith("_main.log.")) continue;
    total += statSync(path.join(dir, name)).size;
    if (name !== "_main.log") backups++;
  }
  return { total, backups };
}

describe("/metrics of the running server", () => {
  test("TCP: received, written, rejected by reason, connections, pending, last sequence, rotations, fsyncs", async () => {
    const metricsPort = freePort();
    server = await startServer({ args: ["--metrics_port", String(metricsPort), "--max_file_bytes", "20000", "--backup_count", "1000", "--fsync", "batch"] });
    expect(server.metricsPort).toBe(metricsPort);
    expect(server.stdout).toContain(`LogServer : metrics server listening on 127.0.0.1:${metricsPort}\n`);

    const before = await scrape(metricsPort);
    expect(before.value('log_server_received_records_total{protocol="tcp"}')).toBe(0);
    expect(before.value("log_server_last_written_sequence")).toBe(-1);
    expect(before.value("log_server_writer_healthy")).toBe(1);

    // Three clients, 400 records each, sent in odd-sized pieces; heartbeats are not records.
    const connections = 3;
    const perConnection = 400;
    const sockets = await Promise.all(Array.from({ length: connections }, () => connectTcp(server!.tcpPort)));
    await Promise.all(
      sockets.map(async (socket, conn) => {
        const bytes = concat(Array.from({ length: perConnection }, (_, n) => (n % 50 === 0 ? concat([HEARTBEAT, numbered(conn, n)]) : numbered(conn, n))));
        for (let offset = 0; offset < bytes.length; offset += 777) await writeAll(socket, bytes.subarray(offset, offset + 777));
      }),
    );
    const total = connections * perConnection;
    // While the clients are still connected the server counts them.
    const open = await scrapeUntil(metricsPort, (v) => v('log_server_received_records_total{protocol="tcp"}') === total, `${total} records received`);
    expect(open.value("log_server_tcp_open_connections")).toBe(connections);

    let rejectedConnections = 0;
    for (const frames of Object.values(BAD_FRAMES)) {
      for (const bytes of frames) {
        await sendRejected(server.tcpPort, bytes);
        rejectedConnections++;
      }
    }
    for (const socket of sockets) socket.end();

    const page = await scrapeUntil(
      metricsPort,
      (v) => v("log_server_last_written_sequence") === total - 1 && v("log_server_tcp_open_connections") === 0,
      "every record written and every client gone",
    );
    const v = page.value;
    expect(v('log_server_received_records_total{protocol="tcp"}')).toBe(total);
    expect(v('log_server_received_records_total{protocol="grpc"}')).toBe(0);
    expect(v("log_server_written_records_total")).toBe(total);
    expect(v("log_server_pending_records")).toBe(0);
    expect(v("log_server_pending_bytes")).toBe(0);
    expect(v("log_server_tcp_paused_connections")).toBe(0);
    for (const [reason, frames] of Object.entries(BAD_FRAMES)) {
      expect(v(`log_server_tcp_closed_connections_total{reason="${reason}"}`)).toBe(frames.length);
    }
    const closedSamples = page.families.get("log_server_tcp_closed_connections_total")!.samples;
    expect([...closedSamples.values()].reduce((a, b) => a + b, 0)).toBe(rejectedConnections);
    expect(v('log_server_tcp_closed_connections_total{reason="internal"}')).toBe(0);
    // The file agrees with the byte, rotation and batch counts.
    const files = fileBytes(server.logDir);
    expect(v("log_server_written_bytes_total")).toBe(files.total);
    expect(files.backups).toBeGreaterThan(0);
    expect(v("log_server_file_rotations_total")).toBe(files.backups);
    const batches = v("log_server_written_batches_total")!;
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(total);
    expect(v("log_server_fsyncs_total")).toBe(batches); // --fsync batch: one per batch
    for (const zero of ["log_server_write_errors_total", "log_server_write_retries_total", "log_server_sequence_gaps_total", "log_server_late_records_total"]) {
      expect(v(zero)).toBe(0);
    }
    expect(v("log_server_writer_healthy")).toBe(1);
    expect(v(`log_server_build_info{version="${VERSION}"}`)).toBe(1);
    expect([...page.families.keys()].filter((name) => name.includes("grpc"))).toEqual([]); // --tcp_only
    checkNumberedRecords(server.logLines(), connections, perConnection);

    expect(await server.stop()).toBe(0);
    expect(server.stderr.split("\n").filter((line) => line.includes("closing connection"))).toHaveLength(rejectedConnections);
  });

  test("gRPC and TCP together: received by protocol, refused gRPC requests by code, no open streams or pending answers", async () => {
    const metricsPort = freePort();
    server = await startServer({ tcpOnly: false, args: ["--metrics_port", String(metricsPort)] });
    const client = new LogClient(server.grpcPort);
    const raw = new RawClient(server.grpcPort);
    try {
      const unary = 25;
      for (let n = 0; n < unary; n++) expect((await client.logMessage({ hostname: "g", level: 3, message: `conn=1 n=${n}` })).success).toBe(true);
      const streamed = 75;
      const summary = await client.logStream(Array.from({ length: streamed }, (_, n) => ({ hostname: "g", level: 3, message: `conn=2 n=${n}` })));
      expect(summary.accepted).toBe(streamed);
      // A request that is not a LogRequest at all (field 1 as a varint, twice with a bad wire type).
      await expect(raw.logMessage(new Uint8Array([0x0f, 0xff]))).rejects.toThrow();
      const tcpRecords = 10;
      const socket = await connectTcp(server.tcpPort);
      await writeAll(socket, concat(Array.from({ length: tcpRecords }, (_, n) => numbered(0, n))));
      socket.end();

      const total = unary + streamed + tcpRecords;
      const page = await scrapeUntil(
        metricsPort,
        (v) => v("log_server_last_written_sequence") === total - 1 && v("log_server_tcp_open_connections") === 0,
        "every record written",
      );
      const v = page.value;
      expect(v('log_server_received_records_total{protocol="grpc"}')).toBe(unary + streamed);
      expect(v('log_server_received_records_total{protocol="tcp"}')).toBe(tcpRecords);
      expect(v("log_server_written_records_total")).toBe(total);
      expect(v('log_server_grpc_rejected_requests_total{code="INVALID_ARGUMENT"}')).toBe(1);
      expect(v('log_server_grpc_rejected_requests_total{code="RESOURCE_EXHAUSTED"}')).toBe(0);
      expect(v('log_server_grpc_rejected_requests_total{code="UNAVAILABLE"}')).toBe(0);
      expect(v("log_server_grpc_open_streams")).toBe(0);
      expect(v("log_server_grpc_pending_acks")).toBe(0);
      expect(v("log_server_pending_records")).toBe(0);
    } finally {
      client.close();
      raw.close();
    }
    expect(await server.stop()).toBe(0);
  });
});

describe("/healthz, /readyz and the HTTP surface", () => {
  test("200 ok, 404 for other paths, 405 for other methods", async () => {
    const metricsPort = freePort();
    server = await startServer({ args: ["--metrics_port", String(metricsPort)] });
    const url = (p: string) => `http://127.0.0.1:${metricsPort}${p}`;
    for (const p of ["/healthz", "/readyz"]) {
      const response = await fetch(url(p));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("ok\n");
    }
    expect((await fetch(url("/metrics"), { method: "HEAD" })).status).toBe(200);
    for (const p of ["/", "/metricsx", "/healthz/", "/api/v1/query"]) {
      const response = await fetch(url(p));
      expect(response.status).toBe(404);
      await response.text();
    }
    for (const method of ["POST", "PUT", "DELETE"]) {
      const response = await fetch(url("/metrics"), { method, body: method === "DELETE" ? undefined : "x" });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
      await response.text();
    }
    expect(await server.stop()).toBe(0);
    expect(server.stderr).toBe("");
  });

  test("from the start of shutdown /readyz is 503 with the reason while /healthz stays 200", async () => {
    const metricsPort = freePort();
    server = await startServer({ args: ["--metrics_port", String(metricsPort), "--shutdown_timeout", "6"] });
    // A client that keeps sending heartbeats holds the shutdown in its reading phase for a while.
    const socket = await connectTcp(server.tcpPort);
    let sending = true;
    const heartbeats = (async () => {
      for (let i = 0; sending && i < 200; i++) {
        if (socket.write(HEARTBEAT) < 0) break;
        await Bun.sleep(20);
      }
    })();
    expect((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status).toBe(200);
    server.kill("SIGTERM");
    let readyz: Response | null = null;
    for (let i = 0; i < 200; i++) {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
      if (response.status === 503) {
        readyz = response;
        break;
      }
      await response.text();
      await Bun.sleep(5);
    }
    expect(readyz?.status).toBe(503);
    expect(await readyz!.text()).toBe("not ready: the server is shutting down\n");
    const healthz = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok\n");
    sending = false;
    await heartbeats;
    socket.end();
    expect(await server.exited).toBe(0);
    // Stopped last: nothing listens any more.
    await expect(fetch(`http://127.0.0.1:${metricsPort}/healthz`)).rejects.toThrow();
  });

  test("--metrics_port 0 starts no metrics server", async () => {
    server = await startServer({ args: ["--metrics_port", "0"] });
    expect(server.stdout).not.toContain("metrics");
    expect(server.metricsPort).toBe(0);
    expect(await server.stop()).toBe(0);
  });

  test("a metrics port in use: exit 1 with one sentence naming the address", async () => {
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("someone else") });
    try {
      const proc = Bun.spawn(
        [process.execPath, "run", MAIN, "--port", "0", "--tcp_only", "--metrics_port", String(blocker.port), "--log_dir", tempDir()],
        { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
      );
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(1);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(
        new RegExp(`^LogServer : error: cannot listen for metrics \\(HTTP\\) on 127\\.0\\.0\\.1:${blocker.port} \\(EADDRINUSE\\); choose another --metrics_port, or 0 for no metrics server\\.\\n$`),
      );
    } finally {
      await blocker.stop(true);
    }
  });

  test("--metrics_port is validated like the other ports", async () => {
    for (const bad of ["70000", "-1", "x", ""]) {
      const proc = Bun.spawn([process.execPath, "run", MAIN, "--metrics_port", bad, "--log_dir", tempDir()], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(2);
      expect(stderr).toContain("--metrics_port must be a whole number from 0 to 65535");
    }
  });
});
