// The records of scripts/bench-format.ts (shared with ad-hoc A/B comparisons).
import type { RecordText } from "../tests/support/frames.ts";

/** A typical application record; one in 32 messages carries something to escape (a newline or a backslash). */
export function benchRecord(i: number): RecordText {
  const words = "order payment cache request latency user session retry upstream timeout queue worker".split(" ");
  let message = `request ${i}:`;
  while (message.length < 60 + (i % 40)) message += ` ${words[(i * 7 + message.length) % words.length]}`;
  if (i % 32 === 5) message += "\n  at handle_request (handlers.py:120)";
  if (i % 32 === 17) message += " path=C:\\data\\orders";
  return {
    timestamp: `2026-05-18T10:${String(i % 60).padStart(2, "0")}:${String((i * 7) % 60).padStart(2, "0")}.${String(123456 + i * 37).padStart(6, "0")}Z`,
    hostname: `web-${i % 16}.prod`,
    loggerName: i % 4 === 0 ? "app.http.access" : "app.http",
    module: "handlers",
    level: i % 12,
    filename: "handlers.py",
    functionName: i % 3 === 0 ? "handle_request" : "dispatch",
    lineNumber: String(100 + (i % 400)),
    message,
    processId: String(4000 + (i % 50)),
    threadName: "MainThread",
    serviceName: "orders",
  };
}
