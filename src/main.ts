#!/usr/bin/env bun
// Entry point of `log_server` (compiled) and `bun run src/main.ts` (development).
import { runMain } from "citty";
import { defineServerCommand } from "./cli.ts";
import { LogServer, StartupError } from "./server.ts";

const command = defineServerCommand(async (config) => {
  const server = new LogServer(config);
  // Handlers go in before anything is bound, so a signal right after the startup messages is never missed.
  const shutdown = (signal: string) => {
    server.ops.info(`received ${signal}`);
    server.stop().then(
      (everythingWritten) => process.exit(everythingWritten ? 0 : 1),
      (error) => {
        server.ops.error(`shutdown failed: ${error instanceof Error ? error.message : error}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGHUP", () => void server.reopen());
  try {
    await server.start();
  } catch (error) {
    if (error instanceof StartupError) {
      server.ops.error(error.message);
      server.lock.release();
      process.exit(1);
    }
    throw error;
  }
});

await runMain(command);
