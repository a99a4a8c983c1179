// Command-line validation: bad values exit non-zero with one clear sentence, before anything is bound.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync } from "node:fs";
import path from "node:path";
import { MAIN, startAndStop, tempDir } from "../support/server-process.ts";

async function run(args: string[]) {
  const proc = Bun.spawn([process.execPath, "run", MAIN, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("command line", () => {
  test.each([
    [["--port", "70000"], /--port must be a whole number from 0 to 65535, got "70000"/],
    [["--grpc_port", "-1"], /--grpc_port must be a whole number/],
    [["--max_file_bytes", "-5"], /--max_file_bytes must be a whole number from 1/],
    [["--backup_count", "ten"], /--backup_count must be a whole number/],
    [["--fsync", "sometimes"], /--fsync must be never, batch or interval:<ms>/],
    [["--prot", "9000"], /unknown option --prot/],
  ])("%p is refused", async (args, message) => {
    const { stderr, stdout, code } = await run([...args, "--log_dir", tempDir()]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stdout).not.toContain("listening");
  });

  test("an unwritable log dir is refused", async () => {
    if (process.getuid?.() === 0) {
      // root may write anywhere; a path under a regular file can never be a directory.
      const file = path.join(tempDir(), "file");
      await Bun.write(file, "x");
      const { stderr, code } = await run(["--log_dir", path.join(file, "logs")]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/--log_dir .* is not a writable directory/);
      return;
    }
    const dir = path.join(tempDir(), "ro");
    mkdirSync(dir);
    chmodSync(dir, 0o500);
    const { stderr, code } = await run(["--log_dir", dir]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/is not a writable directory/);
  });

  test("kebab-case spellings are accepted", async () => {
    const { stdout: out, exitCode } = await startAndStop([
      process.execPath, "run", MAIN, "--port", "0", "--tcp-only", "--metrics-port", "0", "--log-dir", tempDir(), "--max-file-bytes", "70000000",
    ]);
    expect(exitCode).toBe(0);
    expect(out).toContain("TCP server listening on 127.0.0.1:");
    expect(out).not.toContain("gRPC server listening");
  });

  test("--help explains every option; --version prints the package version", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--name", "--host", "--port", "--grpc_port", "--tcp_only", "--log_dir", "--max_file_bytes", "--backup_count"]) {
      expect(help.stdout).toContain(flag);
    }
    const version = await run(["--version"]);
    const pkg = await Bun.file(path.join(import.meta.dir, "../../package.json")).json();
    expect(version.stdout.trim()).toBe(pkg.version);
  });

  test("a port already in use is one clear error", async () => {
    const blocker = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const { stderr, code } = await run(["--port", String(blocker.port), "--tcp_only", "--log_dir", tempDir()]);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`cannot listen for TCP on 127\\.0\\.0\\.1:${blocker.port}`));
    } finally {
      blocker.stop(true);
    }
  });
});
