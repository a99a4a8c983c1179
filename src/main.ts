#!/usr/bin/env bun
// Entry point of `log_server` (compiled) and `bun run src/main.ts` (development).
import { runMain } from "citty";
import { defineServerCommand } from "./cli.ts";
import { LogServer, StartupError } from "./server.ts";

const command = defineServerCommand(async (config) => {
  const server = new LogServer(config);
  try {
    await server.start();
  } catch (error) {
    if (error instanceof StartupError) {
      console.error(`${config.name} : error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const shutdown = (signal: string) => {
    server.ops.info(`received ${signal}`);
    server.stop().then(
      () => process.exit(0),
      (error) => {
        server.ops.error(`shutdown failed: ${error instanceof Error ? error.message : error}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGHUP", () => {
    void server.writer.reopen();
  });
});

await runMain(command);
