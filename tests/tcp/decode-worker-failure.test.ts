// A decode worker that dies is replaced; its connections are closed (their unanswered reads are gone)
// and reported, and the server goes on taking records in one gapless sequence.
import { expect, test } from "bun:test";
import { OpsLog } from "../../src/ops-log.ts";
import { RecordSink } from "../../src/pipeline/record-sink.ts";
import { Sequencer } from "../../src/pipeline/sequencer.ts";
import { TcpListener } from "../../src/tcp/tcp-listener.ts";
import { RotatingFile } from "../../src/writer/rotating-file.ts";
import { concat, logFrame } from "../support/frames.ts";
import { checkNumberedRecords } from "../support/numbered-records.ts";
import { connectTcp, sendTcp, tempDir, writeAll } from "../support/server-process.ts";
import { allLines, CapturedOps, makeWriter } from "../support/writer-harness.ts";

const numbered = (conn: number, n: number) => logFrame({ level: 3, message: `conn=${conn} n=${n}` });

test("a crashed decode worker is replaced; its connections are closed and reported; later clients are served", async () => {
  const dir = tempDir();
  const file = new RotatingFile(dir, "_main.log", 3);
  await file.open();
  const { writer } = makeWriter(file);
  const ops = new CapturedOps();
  const listener = new TcpListener({
    host: "127.0.0.1",
    port: 0,
    sink: new RecordSink(Sequencer.startingAt(0), writer),
    ops: ops as OpsLog,
    firstFrameTimeoutMs: 5000,
    idleTimeoutMs: 60_000,
    maxConnections: 100,
    decodeThreads: 1,
    decodeWorkerUrl: new URL("../support/crashing-decode-worker.ts", import.meta.url),
  });
  listener.start();

  const before = await connectTcp(listener.port);
  await writeAll(before, concat(Array.from({ length: 50 }, (_, n) => numbered(0, n))));
  while (writer.settled < 49) await Bun.sleep(10);

  await sendTcp(listener.port, logFrame({ message: "CRASHNOW" }));
  while (!ops.lines.some((line) => line.includes("a decode worker failed"))) await Bun.sleep(10);
  expect(ops.lines.find((line) => line.includes("a decode worker failed"))).toMatch(
    /^error: a decode worker failed \(injected decoder crash\); it was replaced, but \d+ reads from \d+ connections were lost/,
  );
  // The connection that shared the dead worker is closed too, so its client reconnects.
  while (listener.connections.size > 0) await Bun.sleep(10);
  expect(listener.rejected.get("decoder-failure")).toBeGreaterThanOrEqual(1);

  await sendTcp(listener.port, concat(Array.from({ length: 50 }, (_, n) => numbered(0, 50 + n))));
  while (writer.settled < 99) await Bun.sleep(10);
  await listener.drain(performance.now() + 2000);
  await writer.close();
  checkNumberedRecords(allLines(dir), 1, 100);
}, 30_000);
