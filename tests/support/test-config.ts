// A complete ServerConfig for in-process servers (tests that inject a file or inspect internals).
import type { ServerConfig } from "../../src/config.ts";
import { tempDir } from "./server-process.ts";

export function testConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name: "Test",
    host: "127.0.0.1",
    port: 0,
    grpcPort: 0,
    tcpOnly: true,
    logDir: tempDir(),
    maxFileBytes: 1 << 30,
    backupCount: 10,
    gapTimeoutMs: 5000,
    fsync: { kind: "never" },
    maxPendingBytes: 64 << 20,
    firstFrameTimeoutMs: 5000,
    idleTimeoutMs: 60_000,
    maxConnections: 4096,
    shutdownTimeoutMs: 10_000,
    decodeThreads: 1,
    metricsPort: 0,
    ...overrides,
  } as ServerConfig;
}
