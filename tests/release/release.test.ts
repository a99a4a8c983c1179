// `bun run release` for this machine's platform: archive name and contents, SHA256SUMS, and the
// extracted binary's --version.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { HOST_TARGET, REPO, VERSION, archiveFile, readSums, run, sha256File, sharedRelease, tempDir } from "./helpers.ts";

describe.skipIf(HOST_TARGET === null || HOST_TARGET.startsWith("windows-"))(`release for this machine (${HOST_TARGET})`, () => {
  const target = HOST_TARGET as string;

  test("archive, SHA256SUMS and a working binary", async () => {
    const { outDir, stdout, seconds } = await sharedRelease([target]);
    console.log(`release.ts --targets ${target}: ${seconds.toFixed(1)}s`);
    const name = archiveFile(target);

    // Exactly one archive plus SHA256SUMS, and the script says what it built.
    expect(readdirSync(outDir).sort()).toEqual([name, "SHA256SUMS"].sort());
    expect(stdout).toContain(path.join(outDir, name));

    const sums = readSums(outDir);
    expect([...sums.keys()]).toEqual([name]);
    expect(sums.get(name)).toBe(sha256File(path.join(outDir, name)));

    const dir = tempDir();
    const listing = await run(["tar", "-tzvf", path.join(outDir, name)]);
    expect(listing.code).toBe(0);
    const entries = listing.stdout.trim().split("\n").map((line) => line.trim().split(/\s+/));
    expect(entries.map((e) => e[e.length - 1]).sort()).toEqual(["LICENSE", "README.md", "log_server"]);
    expect(entries.find((e) => e[e.length - 1] === "log_server")?.[0]).toBe("-rwxr-xr-x");

    const extract = await run(["tar", "-xzf", path.join(outDir, name), "-C", dir]);
    expect(extract.code).toBe(0);
    expect(readFileSync(path.join(dir, "README.md"), "utf8")).toBe(readFileSync(path.join(REPO, "README.md"), "utf8"));
    expect(readFileSync(path.join(dir, "LICENSE"), "utf8")).toBe(readFileSync(path.join(REPO, "LICENSE"), "utf8"));
    expect(statSync(path.join(dir, "log_server")).mode & 0o777).toBe(0o755);

    const version = await run([path.join(dir, "log_server"), "--version"], { cwd: dir });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
  }, 180_000);

  test("rejects an unknown target with exit 2 and the list of known ones", async () => {
    const result = await run([process.execPath, "scripts/release.ts", "--targets", "linux-x64,plan9-mips", "--out", tempDir()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown target "plan9-mips"');
    expect(result.stderr).toContain("linux-arm64");
  });
});
