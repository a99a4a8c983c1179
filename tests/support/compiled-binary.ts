// One `bun build --compile` of the server per test run, shared by every test file that needs it.
import path from "node:path";
import { compileLogServer } from "../../scripts/compile.ts";
import { tempDir } from "./server-process.ts";

let build: Promise<string> | null = null;

export function compiledBinary(): Promise<string> {
  build ??= compileLogServer({ outfile: path.join(tempDir("log_server-bin-"), "log_server") });
  return build;
}
