// The disk is slow, stalled or full: memory stays bounded (reads pause at --max_pending_bytes), the
// fault is reported once, and when the disk recovers every record is written once, in order.
import { afterEach, describe, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { LogServer } from "../../src/server.ts";
import type { LogFile } from "../../src/writer/log-file.ts";
import { RotatingFile } from "../../src/writer/rotating-file.ts";
import { concat, logFrame } from "../support/frames.ts";
import { checkNumberedRecords } from "../support/numbered-records.ts";
import { connectTcp, type ServerProcess, startServer, tempDir, writeAll } from "../support/server-process.ts";
import { testConfig } from "../support/test-config.ts";
import { allLines, CapturedOps } from "../support/writer-harness.ts";

/** A real _main.log whose writes can be held back, as on a stalled disk. */
class StallableFile extends RotatingFile {
  #release: Promise<void> | null = null;
  #open: (() => void) | null = null;
  writesWhileStalled = 0;

  stall(): void {
    this.#release = new Promise((resolve) => (this.#open = resolve));
  }

  recover(): void {
    this.#open?.();
    this.#release = null;
  }

  override async write(bytes: Uint8Array, offset: number, length: number): Promise<number> {
    if (this.#release) {
      this.writesWhileStalled++;
      await this.#release;
    }
    return super.write(bytes, offset, length);
  }
}

const numbered = (conn: number, n: number) =>
  logFrame({ timestamp: "2026-05-18T10:00:00.123456789Z", hostname: "host", loggerName: "load", level: 6, message: `conn=${conn} n=${n} ${"x".repeat(150)}` });

/** Frames are built before connecting, so sending runs at socket speed. */
async function sendNumbered(port: number, conn: number, count: number): Promise<void> {
  const bytes = concat(Array.from({ length: count }, (_, n) => numbered(conn, n)));
  const socket = await connectTcp(port);
  await writeAll(socket, bytes);
  socket.end();
}

describe("slow or stalled disk", () => {
  test("memory stays under the bound while stalled; after recovery every record is written once, in order", async () => {
    const config = testConfig({ maxPendingBytes: 2 * 1024 * 1024 });
    const file = new StallableFile(config.logDir, "_main.log", 10);
    const ops = new CapturedOps();
    const server = new LogServer(config, { file: file as LogFile, ops });
    await server.start();
    file.stall();
    let peakPending = 0;
    const sampler = setInterval(() => (peakPending = Math.max(peakPending, server.writer.pendingBytes)), 2);
    const connections = 4;
    const perConnection = 10_000; // ~2 MB each on the wire, ~10 MB of lines: far over the 2 MiB bound
    const senders = Array.from({ length: connections }, (_, conn) => sendNumbered(server.tcp!.port, conn, perConnection));
    while (server.tcp!.paused.size < connections) await Bun.sleep(10);
    await Bun.sleep(300);
    // Stalled: reads paused at the bound; nothing beyond one read per connection over it.
    expect(server.tcp!.paused.size).toBe(connections);
    expect(ops.lines).toContain("warn: write backlog reached --max_pending_bytes; pausing reads until it drains");
    // Bun hands over up to 512 KiB per read, and a read is always taken whole: at most one read per
    // connection (plus its formatting overhead) goes over the bound.
    const margin = connections * 768 * 1024;
    expect(peakPending).toBeLessThan(config.maxPendingBytes + margin);
    file.recover();
    await Promise.all(senders);
    await server.writer.whenIdle();
    clearInterval(sampler);
    expect(peakPending).toBeLessThan(config.maxPendingBytes + margin);
    expect(ops.lines.some((line) => line.startsWith("info: write backlog drained; resuming reads"))).toBe(true);
    expect(await server.stop()).toBe(true);
    checkNumberedRecords(allLines(config.logDir), connections, perConnection);
  });

  test("a failing write is retried with backoff, reported once, health turns bad, and nothing is lost", async () => {
    const config = testConfig();
    let failuresLeft = 5;
    class FlakyFile extends RotatingFile {
      override write(bytes: Uint8Array, offset: number, length: number): Promise<number> {
        if (failuresLeft > 0) {
          failuresLeft--;
          return Promise.reject(Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" }));
        }
        return super.write(bytes, offset, length);
      }
    }
    const ops = new CapturedOps();
    const server = new LogServer(config, { file: new FlakyFile(config.logDir, "_main.log", 10), ops });
    await server.start();
    const health: boolean[] = [];
    server.writer.onHealthChange((healthy) => health.push(healthy));
    await sendNumbered(server.tcp!.port, 0, 300);
    await Bun.sleep(200);
    await server.writer.whenIdle();
    await (async () => {
      while (server.writer.settled < 299) await Bun.sleep(20);
    })();
    expect(await server.stop()).toBe(true);
    checkNumberedRecords(allLines(config.logDir), 1, 300);
    const reports = ops.lines.filter((line) => line.includes("failed 3 times (EIO)"));
    expect(reports).toHaveLength(1);
    expect(ops.lines.some((line) => /write of .* works again after 5 failed attempts/.test(line))).toBe(true);
    expect(health).toEqual([false, true]);
    expect(server.writer.stats.writeErrors).toBe(5);
  });
});

describe("disk full for real (tmpfs)", () => {
  const mountPoint = path.join(tempDir("log_server-tmpfs-"), "disk");
  mkdirSync(mountPoint);
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]).status === 0;
  let server: ServerProcess | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
    if (mounted) execFileSync("umount", [mountPoint]);
  });

  test.skipIf(!mounted)("ENOSPC: records queue, the fault is reported once, and after space is freed all are written (skipped where tmpfs cannot be mounted: needs root)", async () => {
    server = await startServer({ logDir: mountPoint, args: ["--max_file_bytes", "100000000"] });
    // Leave ~200 KB free; ~1 MB of records will not fit until the filler goes.
    const filler = path.join(mountPoint, "filler");
    writeFileSync(filler, new Uint8Array(1.8 * 1024 * 1024));
    const perConnection = 2500;
    await Promise.all([0, 1].map((conn) => sendNumbered(server!.tcpPort, conn, perConnection)));
    await server.waitFor(() => /failed 3 times \(ENOSPC\)/.test(server!.stderr), "the ENOSPC report");
    await Bun.sleep(500);
    expect((server.stderr.match(/ENOSPC/g) ?? []).length).toBe(1);
    rmSync(filler);
    await server.waitFor(() => server!.stdout.includes("works again"), "recovery message", 30_000);
    checkNumberedRecords(await server.waitForLines(2 * perConnection), 2, perConnection);
    expect(await server.stop()).toBe(0);
  });
});
