// Process lifecycle: one server per log dir, SIGHUP reopen for logrotate, SIGTERM under load.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { LOCK_FILE_NAME } from "../../src/writer/dir-lock.ts";
import { concat, logFrame } from "../support/frames.ts";
import { checkNumberedRecords } from "../support/numbered-records.ts";
import { connectTcp, MAIN, type ServerProcess, sendTcp, startServer, tempDir, writeAll } from "../support/server-process.ts";

const running: ServerProcess[] = [];
async function start(...args: Parameters<typeof startServer>) {
  const server = await startServer(...args);
  running.push(server);
  return server;
}
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
});

const numbered = (conn: number, n: number) => logFrame({ level: 3, message: `conn=${conn} n=${n}` });

describe("one server per log dir", () => {
  test("a second start on the same log dir is refused with a clear message", async () => {
    const first = await start();
    const proc = Bun.spawn([process.execPath, "run", MAIN, "--port", "0", "--tcp_only", "--log_dir", first.logDir], { stdout: "pipe", stderr: "pipe" });
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(1);
    expect(stderr).toContain(`another log_server (pid ${first.proc.pid}) is already writing to ${first.logDir}`);
    // The first one is unaffected.
    await sendTcp(first.tcpPort, numbered(0, 0));
    await first.waitForLines(1);
  });

  test("a lock left by a dead process is taken over; a clean stop removes the lock", async () => {
    const logDir = tempDir();
    writeFileSync(path.join(logDir, LOCK_FILE_NAME), "999999\n"); // no such process
    const server = await start({ logDir });
    expect(server.stderr).toContain("took over the lock of log_server pid 999999");
    expect(readFileSync(path.join(logDir, LOCK_FILE_NAME), "utf8").trim()).toBe(String(server.proc.pid));
    expect(await server.stop()).toBe(0);
    expect(existsSync(path.join(logDir, LOCK_FILE_NAME))).toBe(false);
  });
});

test("SIGHUP reopens _main.log after an external rotation", async () => {
  const server = await start();
  await sendTcp(server.tcpPort, numbered(0, 0), numbered(0, 1));
  await server.waitForLines(2);
  renameSync(server.logFile, `${server.logFile}.rotated`);
  server.kill("SIGHUP");
  await server.waitFor(() => server.stdout.includes(`reopened ${server.logFile}`), "reopen message");
  await sendTcp(server.tcpPort, numbered(0, 2));
  await server.waitFor(() => existsSync(server.logFile) && readFileSync(server.logFile, "utf8").includes("conn=0 n=2"), "record in the new file");
  const old = readFileSync(`${server.logFile}.rotated`, "utf8").trimEnd().split("\n");
  const fresh = readFileSync(server.logFile, "utf8").trimEnd().split("\n");
  expect(old.map((line) => / n=\d/.exec(line)?.[0].trim())).toEqual(["n=0", "n=1"]);
  expect(fresh).toHaveLength(1);
  expect(fresh[0]).toMatch(/^2 /);
});

test("SIGTERM under load: every record sent before the signal is written, then exit 0", async () => {
  const server = await start({ args: ["--max_file_bytes", "100000000"] });
  const connections = 4;
  let stop = false;
  const sent = new Array(connections).fill(0);
  const clients = Array.from({ length: connections }, async (_, conn) => {
    const socket = await connectTcp(server.tcpPort);
    // Whole frames per write; each loop turn waits until its bytes are handed to the kernel.
    for (let batch = 0; batch < 5_000 && !stop; batch++) {
      const frames = Array.from({ length: 20 }, (_, k) => numbered(conn, sent[conn] + k));
      await writeAll(socket, concat(frames));
      sent[conn] += 20;
      await Bun.sleep(0); // let the signal and the other clients in
    }
  });
  await server.waitFor(() => server.logLines().length > 2000, "load to build up");
  server.kill("SIGTERM");
  stop = true;
  await Promise.allSettled(clients);
  expect(await server.exited).toBe(0);
  const lines = server.logLines();
  // Each connection: exactly the records it sent before stopping, in order; one gapless sequence.
  expect(lines.length).toBe(sent.reduce((a, b) => a + b, 0));
  const perConnection = new Array(connections).fill(0);
  lines.forEach((line, i) => {
    expect(Number(line.split(" ", 1)[0])).toBe(i);
    const [, conn, n] = /conn=(\d+) n=(\d+)/.exec(line)!.map(Number);
    expect(n).toBe(perConnection[conn]++);
  });
  expect(perConnection).toEqual(sent);
  expect(server.stdout).toContain("stopped; last written sequence is");
});

describe("idle and hostile connections", () => {
  test("slow-loris: silent and one-byte connections are closed on time; a good client is unaffected", async () => {
    const server = await start({ args: ["--first_frame_timeout", "1", "--idle_timeout", "3"] });
    const silent = await Promise.all(Array.from({ length: 150 }, () => connectTcp(server.tcpPort)));
    const oneByte = await Promise.all(Array.from({ length: 150 }, () => connectTcp(server.tcpPort)));
    for (const socket of oneByte) socket.write(new Uint8Array([0]));
    const good = await connectTcp(server.tcpPort);
    const startedAt = performance.now();
    for (let n = 0; n < 30; n++) {
      await writeAll(good, numbered(0, n));
      await Bun.sleep(50);
    }
    await server.waitFor(() => (server.stderr.match(/no complete frame within 1 s/g) ?? []).length === 300, "300 first-frame closes", 10_000);
    const elapsed = performance.now() - startedAt;
    expect(elapsed).toBeLessThan(4000);
    good.end();
    checkNumberedRecords(await server.waitForLines(30), 1, 30);
    expect(server.stderr).not.toContain("conn=0"); // the good client was never closed
  });

  test("idle timeout: heartbeats keep a connection open; silence closes it", async () => {
    const server = await start({ args: ["--first_frame_timeout", "5", "--idle_timeout", "0.6"] });
    const heartbeating = await connectTcp(server.tcpPort);
    const silentAfterRecord = await connectTcp(server.tcpPort);
    await writeAll(silentAfterRecord, numbered(1, 0));
    for (let i = 0; i < 15; i++) {
      await writeAll(heartbeating, new Uint8Array(4));
      await Bun.sleep(100);
    }
    expect(server.stderr).toMatch(/closing connection from 127\.0\.0\.1:\d+: nothing received for 0\.6 s; 1 earlier records from it are kept/);
    expect((server.stderr.match(/nothing received/g) ?? []).length).toBe(1);
    await writeAll(heartbeating, numbered(0, 0));
    heartbeating.end();
    const lines = await server.waitForLines(2);
    expect(lines[1]).toContain("conn=0 n=0");
  });

  test("max_connections: further connections are refused with one log line; room frees up again", async () => {
    const server = await start({ args: ["--max_connections", "3"] });
    const held = await Promise.all(Array.from({ length: 3 }, () => connectTcp(server.tcpPort)));
    await Promise.all(held.map((socket, conn) => writeAll(socket, numbered(conn, 0))));
    await server.waitForLines(3);
    for (let i = 0; i < 5; i++) await sendTcp(server.tcpPort, numbered(9, i)).catch(() => {});
    await Bun.sleep(300);
    expect(server.logLines()).toHaveLength(3);
    expect((server.stderr.match(/--max_connections 3 reached/g) ?? []).length).toBe(1);
    held[0].end();
    await Bun.sleep(200);
    await sendTcp(server.tcpPort, numbered(5, 0));
    const lines = await server.waitForLines(4);
    expect(lines[3]).toContain("conn=5 n=0");
  });
});
