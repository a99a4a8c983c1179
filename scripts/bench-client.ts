// Load generator for `bun run bench`, run as its own process so it does not share the server's CPU
// time slice accounting: sends RECORDS records over CONNECTIONS TCP connections as fast as the
// server reads them, and prints a JSON line with the time it started and finished sending.
// Usage: bun scripts/bench-client.ts <port> <records> <connections>
import { Message } from "capnp-es";
import { LoggerMsg } from "../src/capnp/logger.ts";

const [port, records, connections] = process.argv.slice(2).map(Number);
if (!port || !records || !connections) throw new Error("usage: bench-client.ts <port> <records> <connections>");

/** A typical record of about 250 bytes on the wire; the counter keeps payloads distinct. */
function payload(connection: number, index: number): Uint8Array {
  const message = new Message();
  const msg = message.initRoot(LoggerMsg);
  msg.timestamp = "2026-05-18T10:00:00.123456789Z";
  msg.hostname = "trade-gw-07";
  msg.loggerName = "orders";
  msg.module = "gateway";
  msg.level = 6;
  msg.filename = "order_router.py";
  msg.functionName = "route_order";
  msg.lineNumber = "412";
  msg.message = `conn=${connection} n=${index} routed order 8812331 to venue XNAS qty=100 px=187.23 side=BUY tif=DAY acct=ACC-4471`;
  msg.processId = "31337";
  msg.threadName = "router-3";
  return new Uint8Array(message.toPackedArrayBuffer());
}

/** All frames of one connection in one buffer; distinct payload templates are reused to keep setup short. */
function connectionStream(connection: number, count: number): Uint8Array {
  const templates: Uint8Array[] = [];
  for (let i = 0; i < 512; i++) templates.push(payload(connection, i));
  let size = 0;
  for (let i = 0; i < count; i++) size += 4 + templates[i % templates.length].length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const p = templates[i % templates.length];
    view.setUint32(offset, p.length);
    out.set(p, offset + 4);
    offset += 4 + p.length;
  }
  return out;
}

const perConnection = Math.ceil(records / connections);
const streams = Array.from({ length: connections }, (_, c) => connectionStream(c, Math.min(perConnection, records - c * perConnection)));
const totalBytes = streams.reduce((sum, s) => sum + s.length, 0);

async function send(stream: Uint8Array): Promise<void> {
  let offset = 0;
  let wake: (() => void) | null = null;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: { data() {}, drain() { wake?.(); } },
  });
  const CHUNK = 256 * 1024;
  while (offset < stream.length) {
    const chunk = stream.subarray(offset, Math.min(stream.length, offset + CHUNK));
    const written = socket.write(chunk);
    offset += written;
    // A short write means the socket buffer is full: wait for drain (the server reading) before more.
    if (written < chunk.length) await new Promise<void>((resolve) => { wake = resolve; });
  }
  socket.end();
}

const startedAt = Date.now();
await Promise.all(streams.map(send));
console.log(JSON.stringify({ startedAt, finishedAt: Date.now(), bytes: totalBytes }));
