// scripts/install.sh (run with dash when present, to keep it POSIX) against this machine's release:
// from a local directory, a file:// URL and an HTTP mirror (Bun.serve); the installed binary starts and
// writes a record; a corrupted archive is refused; the default GitHub URLs; the wget/shasum fallbacks.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import path from "node:path";
import type { Server } from "bun";
import { HOST_TARGET, REPO, VERSION, archiveFile, proveServerWorks, run, sharedRelease, tempDir } from "./helpers.ts";

const INSTALL = path.join(REPO, "scripts/install.sh");
const shell = Bun.which("dash") ?? "/bin/sh";
const supported = HOST_TARGET !== null && !HOST_TARGET.startsWith("windows-");

function install(args: string[], env: Record<string, string | undefined> = {}) {
  const base = { ...process.env };
  delete base.LOG_SERVER_DOWNLOAD_URL;
  delete base.LOG_SERVER_GITHUB_OWNER;
  return run([shell, INSTALL, ...args], { env: { ...base, ...env } });
}

/** Serves `root` over HTTP on 127.0.0.1 and records every path asked for. */
function serveDir(root: string): { server: Server<unknown>; url: string; requests: string[] } {
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const pathname = decodeURIComponent(new URL(req.url).pathname);
      requests.push(pathname);
      const file = path.join(root, pathname);
      if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) return new Response("not found", { status: 404 });
      return new Response(Bun.file(file));
    },
  });
  return { server, url: `http://127.0.0.1:${server.port}`, requests };
}

describe.skipIf(!supported)(`install.sh (${shell}, ${HOST_TARGET})`, () => {
  const archive = archiveFile(HOST_TARGET ?? "none");
  let releaseDir = "";
  let http: ReturnType<typeof serveDir> | null = null;

  beforeAll(async () => {
    releaseDir = (await sharedRelease([HOST_TARGET as string])).outDir;
  }, 180_000);

  afterAll(() => {
    http?.server.stop(true);
  });

  test("from a local directory (latest = the one archive in SHA256SUMS); installing again replaces it", async () => {
    const binDir = path.join(tempDir(), "bin");
    const first = await install(["--bin-dir", binDir], { LOG_SERVER_DOWNLOAD_URL: releaseDir });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const binary = path.join(binDir, "log_server");
    expect(first.stdout).toContain("checksum OK");
    expect(first.stdout).toContain(`installed log_server ${VERSION} (${HOST_TARGET}) as ${binary}`);
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    expect((await run([binary, "--version"])).stdout.trim()).toBe(VERSION);

    const inode = statSync(binary).ino;
    const again = await install(["--bin-dir", binDir, "--version", `v${VERSION}`], { LOG_SERVER_DOWNLOAD_URL: `${releaseDir}/` });
    expect(again.code).toBe(0);
    expect(statSync(binary).ino).not.toBe(inode); // replaced by rename, not rewritten in place
    expect(readdirSync(binDir)).toEqual(["log_server"]); // no staging file left behind
  }, 60_000);

  test("from a file:// URL with --version", async () => {
    const binDir = path.join(tempDir(), "bin");
    const result = await install(["--version", VERSION, "--bin-dir", binDir], { LOG_SERVER_DOWNLOAD_URL: `file://${releaseDir}` });
    expect(result.code).toBe(0);
    expect((await run([path.join(binDir, "log_server"), "--version"])).stdout.trim()).toBe(VERSION);
  }, 60_000);

  test("from an HTTP mirror: the installed server starts and writes a record sent over TCP", async () => {
    const root = tempDir();
    cpSync(releaseDir, path.join(root, "releases", `v${VERSION}`), { recursive: true });
    http = serveDir(root);
    const binDir = path.join(tempDir(), "bin");
    const result = await install(["--bin-dir", binDir], { LOG_SERVER_DOWNLOAD_URL: `${http.url}/releases/v${VERSION}` });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(http.requests).toEqual([`/releases/v${VERSION}/SHA256SUMS`, `/releases/v${VERSION}/${archive}`]);

    const logDir = tempDir();
    const text = `hello from the installed binary ${Date.now()}`;
    const { line, exitCode } = await proveServerWorks(path.join(binDir, "log_server"), logDir, text);
    expect(line).toMatch(/^0\s/); // first record, sequence 0
    expect(line).toContain(text);
    expect(exitCode).toBe(0); // SIGTERM: writes what it has, exits 0
  }, 60_000);

  test("a corrupted archive is refused: non-zero exit, clear message, nothing installed", async () => {
    const mirror = tempDir();
    cpSync(releaseDir, mirror, { recursive: true });
    const file = path.join(mirror, archive);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(file, bytes);

    const binDir = path.join(tempDir(), "bin");
    const result = await install(["--bin-dir", binDir], { LOG_SERVER_DOWNLOAD_URL: mirror });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`checksum mismatch for ${archive}`);
    expect(result.stderr).toContain("nothing was installed");
    expect(existsSync(binDir) ? readdirSync(binDir) : []).toEqual([]);
  }, 60_000);

  test("a version missing from SHA256SUMS is refused", async () => {
    const binDir = path.join(tempDir(), "bin");
    const result = await install(["--version", "99.0.0", "--bin-dir", binDir], { LOG_SERVER_DOWNLOAD_URL: releaseDir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`no entry for log_server-99.0.0-${HOST_TARGET}.tar.gz`);
    expect(existsSync(binDir)).toBe(false);
  });

  test("default URLs are the GitHub release (latest, a tag, another owner)", async () => {
    // A curl that only records what it was asked for: no network.
    const fake = tempDir();
    const logFile = path.join(fake, "urls");
    writeFileSync(path.join(fake, "curl"), `#!/bin/sh\nfor a in "$@"; do last="$a"; done\necho "$last" >> "${logFile}"\nexit 22\n`);
    chmodSync(path.join(fake, "curl"), 0o755);
    const env = { PATH: `${fake}:${process.env.PATH}` };
    const binDir = path.join(tempDir(), "bin");

    const latest = await install(["--bin-dir", binDir], env);
    expect(latest.code).not.toBe(0);
    expect(latest.stderr).toContain("download failed: https://github.com/log-server/log_server/releases/latest/download/SHA256SUMS");
    await install(["--version", "v1.2.3", "--bin-dir", binDir], env);
    await install(["--bin-dir", binDir], { ...env, LOG_SERVER_GITHUB_OWNER: "acme" });
    expect(readFileSync(logFile, "utf8").trim().split("\n")).toEqual([
      "https://github.com/log-server/log_server/releases/latest/download/SHA256SUMS",
      "https://github.com/log-server/log_server/releases/download/v1.2.3/SHA256SUMS",
      "https://github.com/acme/log_server/releases/latest/download/SHA256SUMS",
    ]);
    expect(existsSync(binDir)).toBe(false);
  });

  // Only the tools the script needs, without curl and sha256sum: it must fall back to wget and shasum.
  const fallbackTools = ["uname", "mktemp", "rm", "cp", "mv", "chmod", "mkdir", "tar", "gzip", "awk", "grep", "cat", "wget", "shasum", "perl"];
  const missing = fallbackTools.filter((t) => !Bun.which(t));
  test.skipIf(missing.length > 0)(`wget + shasum fallback${missing.length ? ` — SKIPPED: missing ${missing.join(", ")}` : ""}`, async () => {
    const bin = tempDir();
    for (const tool of fallbackTools) symlinkSync(Bun.which(tool) as string, path.join(bin, tool));
    const root = tempDir();
    cpSync(releaseDir, root, { recursive: true });
    const mirror = serveDir(root);
    try {
      const binDir = path.join(tempDir(), "bin");
      const result = await install(["--bin-dir", binDir], { PATH: bin, LOG_SERVER_DOWNLOAD_URL: mirror.url });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(mirror.requests).toEqual(["/SHA256SUMS", `/${archive}`]);
      expect(statSync(path.join(binDir, "log_server")).mode & 0o777).toBe(0o755);
    } finally {
      mirror.server.stop(true);
    }
  }, 60_000);
});
