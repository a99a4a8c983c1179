// The real server process, real sockets on 127.0.0.1, real files.
import { afterEach, describe, expect, test } from "bun:test";
import { connectTcp, type ServerProcess, sendTcp, startServer, writeAll } from "../support/server-process.ts";
import { concat, HEARTBEAT, helloFrame, logFrame } from "../support/frames.ts";
import { checkNumberedRecords } from "../support/numbered-records.ts";

let server: ServerProcess | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

function numbered(conn: number, n: number): Uint8Array {
  return logFrame({ timestamp: "2026-05-18T10:00:00.123456789Z", hostname: `host${conn}`, loggerName: "load", level: 3, message: `conn=${conn} n=${n}` });
}

describe("TCP ingestion end to end", () => {
  test("concurrent connections: every record once, per-connection order, gapless sequence", async () => {
    server = await startServer();
    const connections = 6;
    const perConnection = 2000;
    await Promise.all(
      Array.from({ length: connections }, async (_, conn) => {
        const socket = await connectTcp(server!.tcpPort);
        if (conn % 2 === 0) await writeAll(socket, helloFrame(`client${conn}`, "test-host"));
        // Odd sizes of writes so frames straddle reads; heartbeats mixed in.
        for (let n = 0; n < perConnection; n += 50) {
          const frames: Uint8Array[] = [];
          for (let k = n; k < n + 50; k++) frames.push(numbered(conn, k), ...(k % 17 === 0 ? [HEARTBEAT] : []));
          const bytes = concat(frames);
          for (let offset = 0; offset < bytes.length; offset += 1013) await writeAll(socket, bytes.subarray(offset, offset + 1013));
        }
        socket.end();
      }),
    );
    const lines = await server.waitForLines(connections * perConnection);
    checkNumberedRecords(lines, connections, perConnection);
  });

  test("a broken client is disconnected with one line naming it; its earlier records and other clients' are written", async () => {
    server = await startServer();
    const good = await connectTcp(server.tcpPort);
    await writeAll(good, numbered(0, 0));
    // Order across connections is only the order records reach the writer; make this one first.
    await server.waitForLines(1);
    const bad = await connectTcp(server.tcpPort);
    await writeAll(bad, concat([helloFrame("bad-client", "bad-host"), numbered(1, 0), numbered(1, 1)]));
    await writeAll(bad, new Uint8Array([0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]));
    await writeAll(bad, numbered(1, 2)); // after the bad frame: never read
    await server.waitFor(() => server!.stderr.includes("bad-client@bad-host"), "the rejection message");
    await writeAll(good, numbered(0, 1));
    good.end();
    const lines = await server.waitForLines(4);
    await Bun.sleep(200);
    expect(server.logLines().map((line) => /conn=\d n=\d/.exec(line)?.[0])).toEqual(["conn=0 n=0", "conn=1 n=0", "conn=1 n=1", "conn=0 n=1"]);
    expect(lines).toHaveLength(4);
    const rejection = server.stderr.split("\n").filter((line) => line.includes("closing connection"));
    expect(rejection).toHaveLength(1);
    expect(rejection[0]).toMatch(/bad-client@bad-host \(127\.0\.0\.1:\d+\): frame #4 rejected \(\S+\): .*2 earlier records from it are kept/);
  });

  test("oversize length closes the connection; the server keeps serving", async () => {
    server = await startServer();
    await sendTcp(server.tcpPort, numbered(0, 0), new Uint8Array([0x7f, 0xff, 0xff, 0xff]));
    await server.waitFor(() => /oversize/.test(server!.stderr), "oversize rejection");
    await sendTcp(server.tcpPort, numbered(1, 0));
    const lines = await server.waitForLines(2);
    expect(lines[1]).toContain("conn=1 n=0");
  });

  test("level above 11 is written as its number", async () => {
    server = await startServer();
    await sendTcp(server.tcpPort, logFrame({ level: 42, message: "future level" }));
    const [line] = await server.waitForLines(1);
    expect(line).toMatch(/^0 +\S+ +- +- +42 +- +- +- +future level$/);
  });

  test("restart continues after the highest sequence and appends", async () => {
    server = await startServer();
    const logDir = server.logDir;
    await sendTcp(server.tcpPort, numbered(0, 0), numbered(0, 1), numbered(0, 2));
    await server.waitForLines(3);
    expect(await server.stop()).toBe(0);
    server = await startServer({ logDir });
    expect(server.stdout).toContain("next sequence number is 3");
    await sendTcp(server.tcpPort, numbered(0, 3));
    const lines = await server.waitForLines(4);
    expect(lines.map((line) => Number(line.split(" ", 1)[0]))).toEqual([0, 1, 2, 3]);
    expect(lines[3]).toContain("conn=0 n=3");
  });

  test("SIGTERM writes everything received and exits 0", async () => {
    server = await startServer();
    const socket = await connectTcp(server.tcpPort);
    const frames: Uint8Array[] = [];
    for (let n = 0; n < 5000; n++) frames.push(numbered(0, n));
    await writeAll(socket, concat(frames));
    await server.waitFor(() => server!.logLines().length > 0, "first records");
    await Bun.sleep(100);
    expect(await server.stop()).toBe(0);
    checkNumberedRecords(server.logLines(), 1, 5000);
  });
});
