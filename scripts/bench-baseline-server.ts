// Baseline for `bun run bench`: the least a TCP server on Bun can do with these frames — Bun.listen
// receiving them and the frame parser splitting them, nothing decoded or written. Prints its port,
// then one JSON line when RECORDS frames have arrived.
// Usage: bun scripts/bench-baseline-server.ts <records> [<warm-up records>]
import { FrameParser } from "../src/tcp/frame-parser.ts";

const records = Number(process.argv[2]) + Number(process.argv[3] ?? 0); // measured + warm-up
let frames = 0;
const counter = { onFrame: () => void (frames++ === records - 1 && done()), onHeartbeat() {} };

function done(): void {
  console.log(JSON.stringify({ lastFrameAt: Date.now() }));
  process.exit(0);
}

const server = Bun.listen<FrameParser>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = new FrameParser(counter);
    },
    data(socket, chunk) {
      socket.data.push(chunk);
    },
  },
});
console.log(`listening on ${server.port}`);
