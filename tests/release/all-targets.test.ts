// `bun run release` for all five platforms: names, SHA256SUMS, and that each binary really is an
// executable for its platform (ELF machine, Mach-O CPU type, PE machine). The linux-arm64 binary is
// also run under qemu when qemu-aarch64-static and the arm64 libc are installed.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { ALL_TARGETS, VERSION, archiveFile, readSums, run, sha256File, sharedRelease, tempDir } from "./helpers.ts";

/** Files of a .tar.gz, read with Bun.Archive (an implementation independent of the one that wrote it). */
async function tarFiles(file: string): Promise<Map<string, Uint8Array>> {
  const files = await new Bun.Archive(readFileSync(file)).files();
  const out = new Map<string, Uint8Array>();
  for (const [name, f] of files) out.set(name, new Uint8Array(await f.arrayBuffer()));
  return out;
}

/** Files of a .zip: central directory → local headers → inflate, checking sizes and CRC-32. */
function zipFiles(file: string): Map<string, Uint8Array> {
  const bytes = new Uint8Array(readFileSync(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = bytes.length - 22;
  expect(view.getUint32(eocd, true)).toBe(0x06054b50);
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    expect(view.getUint32(at, true)).toBe(0x02014b50);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const skip = view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    expect(view.getUint32(local, true)).toBe(0x04034b50);
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(dataStart, dataStart + compressed);
    const data = method === 8 ? new Uint8Array(zlib.inflateRawSync(raw)) : raw;
    expect(method === 0 || method === 8).toBe(true);
    expect(data.length).toBe(size);
    expect(Bun.hash.crc32(data) >>> 0).toBe(crc);
    out.set(name, data);
    at += 46 + nameLength + skip;
  }
  return out;
}

function machOLoadCommands(bin: Uint8Array): number[] {
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const commands: number[] = [];
  let at = 32;
  for (let i = 0, n = view.getUint32(16, true); i < n; i++) {
    commands.push(view.getUint32(at, true));
    at += view.getUint32(at + 4, true);
  }
  return commands;
}

const expectedFormat: Record<string, (bin: Uint8Array) => void> = {
  "linux-x64": (bin) => expectElf(bin, 0x3e),
  "linux-arm64": (bin) => expectElf(bin, 0xb7),
  "darwin-x64": (bin) => expectMachO(bin, 0x01000007),
  "darwin-arm64": (bin) => {
    expectMachO(bin, 0x0100000c);
    // Apple silicon refuses unsigned arm64 code: the ad-hoc signature must be there.
    expect(machOLoadCommands(bin)).toContain(0x1d); // LC_CODE_SIGNATURE
  },
  "windows-x64": (bin) => {
    expect(String.fromCharCode(bin[0], bin[1])).toBe("MZ");
    const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
    const pe = view.getUint32(0x3c, true);
    expect(view.getUint32(pe, false)).toBe(0x50450000); // "PE\0\0"
    expect(view.getUint16(pe + 4, true)).toBe(0x8664); // IMAGE_FILE_MACHINE_AMD64
  },
};

function expectElf(bin: Uint8Array, machine: number) {
  expect([...bin.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  expect(bin[4]).toBe(2); // 64-bit
  expect(bin[5]).toBe(1); // little-endian
  expect(new DataView(bin.buffer, bin.byteOffset).getUint16(18, true)).toBe(machine);
}

function expectMachO(bin: Uint8Array, cpuType: number) {
  const view = new DataView(bin.buffer, bin.byteOffset);
  expect(view.getUint32(0, true)).toBe(0xfeedfacf); // bytes cf fa ed fe: 64-bit, little-endian
  expect(view.getUint32(4, true)).toBe(cpuType);
}

const qemu = Bun.which("qemu-aarch64-static");
const armSysroot = "/usr/aarch64-linux-gnu";
const qemuMissing = !qemu ? "qemu-aarch64-static is not installed" : !existsSync(armSysroot) ? `${armSysroot} (libc6-arm64-cross) is missing` : null;
if (qemuMissing) console.warn(`release tests: not running the linux-arm64 binary: ${qemuMissing} (apt-get install qemu-user-static libc6-arm64-cross)`);

describe("release for all platforms", () => {
  let armBinary: string | null = null;

  test("five archives, SHA256SUMS, and a binary of the right format in each", async () => {
    const { outDir, seconds } = await sharedRelease(ALL_TARGETS);
    console.log(`release.ts (all ${ALL_TARGETS.length} targets): ${seconds.toFixed(1)}s`);
    const names = ALL_TARGETS.map((t) => archiveFile(t));
    expect(names).toEqual([
      `log_server-${VERSION}-linux-x64.tar.gz`,
      `log_server-${VERSION}-linux-arm64.tar.gz`,
      `log_server-${VERSION}-darwin-x64.tar.gz`,
      `log_server-${VERSION}-darwin-arm64.tar.gz`,
      `log_server-${VERSION}-windows-x64.zip`,
    ]);
    expect(readdirSync(outDir).sort()).toEqual([...names, "SHA256SUMS"].sort());

    const sums = readSums(outDir);
    expect([...sums.keys()].sort()).toEqual([...names].sort());
    for (const name of names) expect(sums.get(name)).toBe(sha256File(path.join(outDir, name)));
    const sha256sum = Bun.which("sha256sum");
    if (sha256sum) expect((await run([sha256sum, "-c", "SHA256SUMS"], { cwd: outDir })).code).toBe(0);

    for (const target of ALL_TARGETS) {
      const file = path.join(outDir, archiveFile(target));
      const windows = target.startsWith("windows-");
      const files = windows ? zipFiles(file) : await tarFiles(file);
      const binaryName = windows ? "log_server.exe" : "log_server";
      expect([...files.keys()].sort()).toEqual([binaryName, "LICENSE", "README.md"].sort());
      const binary = files.get(binaryName) as Uint8Array;
      expect(binary.length).toBeGreaterThan(10_000_000);
      expectedFormat[target](binary);
      if (target === "linux-arm64") {
        armBinary = path.join(tempDir(), "log_server");
        writeFileSync(armBinary, binary);
        chmodSync(armBinary, 0o755);
      }
    }
    const unzip = Bun.which("unzip");
    if (unzip) expect((await run([unzip, "-t", path.join(outDir, archiveFile("windows-x64"))])).code).toBe(0);
  }, 300_000);

  test.skipIf(qemuMissing !== null)(
    `linux-arm64 binary prints --version under qemu-aarch64-static${qemuMissing ? ` — SKIPPED: ${qemuMissing}` : ""}`,
    async () => {
      expect(armBinary).not.toBeNull();
      const result = await run([qemu as string, "-L", armSysroot, armBinary as string, "--version"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe(VERSION);
    },
    60_000,
  );
});
