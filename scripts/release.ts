// `bun run release [--targets linux-x64,linux-arm64] [--out DIR] [--cache DIR]`
// Cross-compiles log_server for every release platform and packs one archive per platform
// (binary + README.md + LICENSE) plus a SHA256SUMS file covering them all.
//
// Nothing is downloaded from outside the npm registry: the bun runtime of each target comes from
// the npm package @oven/bun-<os>-<arch> at our own Bun version (`npm pack`, cached in
// .release-cache/) and is handed to `bun build --compile --compile-executable-path`.
// Archives are written here (ustar + gzip, zip) so no tar/zip tool is needed and file modes are exact.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import zlib from "node:zlib";
import pkg from "../package.json" with { type: "json" };
import { compileLogServer } from "./compile.ts";

const root = path.resolve(import.meta.dir, "..");

export interface ReleaseTarget {
  /** Our name, used in archive names: `<os>-<arch>`. */
  name: string;
  /** `bun build --target` value. */
  bunTarget: string;
  /** npm package holding that platform's bun runtime. */
  npmPackage: string;
  /** Path of the runtime inside the npm tarball. */
  runtimeInTarball: string;
  /** File name of log_server inside the archive. */
  binaryName: string;
  archive: "tar.gz" | "zip";
}

export const TARGETS: readonly ReleaseTarget[] = [
  { name: "linux-x64", bunTarget: "bun-linux-x64", npmPackage: "@oven/bun-linux-x64", runtimeInTarball: "package/bin/bun", binaryName: "log_server", archive: "tar.gz" },
  { name: "linux-arm64", bunTarget: "bun-linux-arm64", npmPackage: "@oven/bun-linux-aarch64", runtimeInTarball: "package/bin/bun", binaryName: "log_server", archive: "tar.gz" },
  { name: "darwin-x64", bunTarget: "bun-darwin-x64", npmPackage: "@oven/bun-darwin-x64", runtimeInTarball: "package/bin/bun", binaryName: "log_server", archive: "tar.gz" },
  { name: "darwin-arm64", bunTarget: "bun-darwin-arm64", npmPackage: "@oven/bun-darwin-aarch64", runtimeInTarball: "package/bin/bun", binaryName: "log_server", archive: "tar.gz" },
  { name: "windows-x64", bunTarget: "bun-windows-x64", npmPackage: "@oven/bun-windows-x64", runtimeInTarball: "package/bin/bun.exe", binaryName: "log_server.exe", archive: "zip" },
];

export function archiveName(version: string, target: ReleaseTarget): string {
  return `log_server-${version}-${target.name}.${target.archive}`;
}

export interface BuiltArchive {
  target: string;
  file: string;
  bytes: number;
  sha256: string;
}

class UsageError extends Error {}

// ---------------------------------------------------------------- target runtimes (npm, cached)

function run(cmd: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  return Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]).then(([out, err, code]) => ({ code, out, err }));
}

/**
 * The bun runtime binary for `target` at `bunVersion`: `<cache>/<pkg>-<version>/bun[.exe]`, fetched once
 * with `npm pack` (npm verifies the tarball's integrity) and extracted. Files appear by rename, so an
 * interrupted or concurrent run never leaves a half-written runtime behind.
 */
export async function targetRuntime(target: ReleaseTarget, bunVersion: string, cacheDir: string): Promise<{ path: string; cached: boolean }> {
  const dir = path.join(cacheDir, `${target.npmPackage.replace(/^@/, "").replace("/", "-")}-${bunVersion}`);
  const runtime = path.join(dir, path.basename(target.runtimeInTarball));
  if (fs.existsSync(runtime)) return { path: runtime, cached: true };

  fs.mkdirSync(cacheDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, ".fetch-"));
  try {
    const spec = `${target.npmPackage}@${bunVersion}`;
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const packed = await run([npm, "pack", spec, "--pack-destination", work, "--json", "--loglevel=error"], work);
    if (packed.code !== 0) throw new Error(`npm pack ${spec} failed (exit ${packed.code}):\n${packed.err}${packed.out}`);
    const tarball = fs.readdirSync(work).find((f) => f.endsWith(".tgz"));
    if (!tarball) throw new Error(`npm pack ${spec} produced no .tgz in ${work}`);
    const files = await new Bun.Archive(await Bun.file(path.join(work, tarball)).bytes()).files(target.runtimeInTarball);
    const file = files.get(target.runtimeInTarball);
    if (!file) throw new Error(`${spec} has no ${target.runtimeInTarball}`);
    const staged = path.join(work, path.basename(runtime));
    await Bun.write(staged, file);
    fs.chmodSync(staged, 0o755);
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(staged, runtime);
    return { path: runtime, cached: false };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- archives

export interface ArchiveEntry {
  name: string;
  mode: number;
  data: Uint8Array;
}

const gzip = promisify(zlib.gzip) as (data: Uint8Array, options: zlib.ZlibOptions) => Promise<Buffer>;
const deflateRaw = promisify(zlib.deflateRaw) as (data: Uint8Array, options: zlib.ZlibOptions) => Promise<Buffer>;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A POSIX ustar header for a regular file (names here are short, so no prefix/pax handling). */
function tarHeader(entry: ArchiveEntry, mtime: number): Uint8Array {
  const h = new Uint8Array(512);
  const enc = new TextEncoder();
  const put = (offset: number, length: number, text: string) => h.set(enc.encode(text).subarray(0, length), offset);
  const octal = (offset: number, length: number, value: number) => put(offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
  if (enc.encode(entry.name).length > 100) throw new Error(`tar entry name too long: ${entry.name}`);
  put(0, 100, entry.name);
  octal(100, 8, entry.mode);
  octal(108, 8, 0); // uid
  octal(116, 8, 0); // gid
  octal(124, 12, entry.data.length);
  octal(136, 12, mtime);
  put(148, 8, "        "); // checksum counts as spaces while summing
  put(156, 1, "0"); // regular file
  put(257, 6, "ustar\0");
  put(263, 2, "00");
  put(265, 32, "root");
  put(297, 32, "root");
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

export async function tarGz(entries: ArchiveEntry[], mtime: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const entry of entries) {
    const pad = (512 - (entry.data.length % 512)) % 512;
    parts.push(tarHeader(entry, mtime), entry.data, new Uint8Array(pad));
    size += 512 + entry.data.length + pad;
  }
  // Two zero blocks end the archive; pad to a whole 10 KiB record like tar(1) does.
  const end = 1024 + ((10240 - ((size + 1024) % 10240)) % 10240);
  parts.push(new Uint8Array(end));
  return new Uint8Array(await gzip(concat(parts), { level: 6 }));
}

function dosDateTime(unixSeconds: number): { time: number; date: number } {
  const d = new Date(unixSeconds * 1000);
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/** A zip (deflate, or stored when deflate does not help) with Unix modes in the external attributes. */
export async function zip(entries: ArchiveEntry[], mtime: number): Promise<Uint8Array> {
  const { time, date } = dosDateTime(mtime);
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = enc.encode(entry.name);
    const crc = Bun.hash.crc32(entry.data) >>> 0;
    const deflated = new Uint8Array(await deflateRaw(entry.data, { level: 6 }));
    const stored = deflated.length >= entry.data.length;
    const body = stored ? entry.data : deflated;
    if (body.length >= 0xffffffff || entry.data.length >= 0xffffffff) throw new Error(`${entry.name} is too large for a zip without zip64`);

    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint16(6, 0x0800, true); // UTF-8 names
    lv.setUint16(8, stored ? 0 : 8, true);
    lv.setUint16(10, time, true);
    lv.setUint16(12, date, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, entry.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 0, true);
    local.set(name, 30);

    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, (3 << 8) | 20, true); // made by: Unix, spec 2.0
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, stored ? 0 : 8, true);
    cv.setUint16(12, time, true);
    cv.setUint16(14, date, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, entry.data.length, true);
    cv.setUint16(28, name.length, true);
    // extra length, comment length, disk number, internal attributes: 0
    cv.setUint32(38, ((0o100000 | entry.mode) << 16) >>> 0, true); // regular file + mode
    cv.setUint32(42, offset, true);
    central.set(name, 46);

    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
  }
  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, ...centrals, eocd]);
}

// ---------------------------------------------------------------- the release

export interface ReleaseOptions {
  targets: readonly ReleaseTarget[];
  outDir: string;
  cacheDir: string;
  version?: string;
  log?: (line: string) => void;
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

async function runLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return results;
}

export async function buildRelease(options: ReleaseOptions): Promise<BuiltArchive[]> {
  const version = options.version ?? pkg.version;
  const log = options.log ?? (() => {});
  const outDir = path.resolve(options.outDir);
  fs.mkdirSync(outDir, { recursive: true });
  // The out dir holds one release: earlier archives and checksums would not match the new SHA256SUMS.
  for (const f of fs.readdirSync(outDir)) {
    if (f === "SHA256SUMS" || /^log_server-.+-[a-z]+-[a-z0-9]+\.(tar\.gz|zip)$/.test(f)) fs.rmSync(path.join(outDir, f));
  }
  const staging = fs.mkdtempSync(path.join(outDir, ".staging-"));
  const mtime = Number(process.env.SOURCE_DATE_EPOCH) || Math.floor(Date.now() / 1000);
  const docs: ArchiveEntry[] = ["README.md", "LICENSE"].map((name) => ({
    name,
    mode: 0o644,
    data: new Uint8Array(fs.readFileSync(path.join(root, name))),
  }));
  try {
    const built = await runLimited(options.targets, Math.max(1, Math.min(3, os.availableParallelism())), async (target) => {
      const started = performance.now();
      const runtime = await targetRuntime(target, Bun.version, options.cacheDir);
      log(`  ${target.name}: runtime ${path.relative(root, runtime.path) || runtime.path}${runtime.cached ? " (cached)" : " (npm pack)"}`);
      const outfile = path.join(staging, target.name, target.binaryName);
      await compileLogServer({ outfile, target: target.bunTarget, executablePath: runtime.path });
      const binary: ArchiveEntry = { name: target.binaryName, mode: 0o755, data: new Uint8Array(fs.readFileSync(outfile)) };
      const entries = [binary, ...docs];
      const bytes = target.archive === "zip" ? await zip(entries, mtime) : await tarGz(entries, mtime);
      const file = archiveName(version, target);
      fs.writeFileSync(path.join(outDir, file), bytes);
      fs.rmSync(outfile);
      log(`  ${target.name}: ${file} (${((performance.now() - started) / 1000).toFixed(1)}s)`);
      return { target: target.name, file, bytes: bytes.length, sha256: sha256(bytes) };
    });
    built.sort((a, b) => a.file.localeCompare(b.file));
    fs.writeFileSync(path.join(outDir, "SHA256SUMS"), built.map((b) => `${b.sha256}  ${b.file}\n`).join(""));
    return built;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

export function parseTargets(text: string | undefined): ReleaseTarget[] {
  if (text === undefined || text.trim() === "" || text.trim() === "all") return [...TARGETS];
  const names = [...new Set(text.split(",").map((t) => t.trim()).filter((t) => t !== ""))];
  return names.map((name) => {
    const target = TARGETS.find((t) => t.name === name);
    if (!target) throw new UsageError(`unknown target "${name}"; known targets: ${TARGETS.map((t) => t.name).join(", ")}.`);
    return target;
  });
}

const USAGE = `usage: bun run release [--targets ${TARGETS.map((t) => t.name).join(",")}] [--out DIR] [--cache DIR]
  --targets  comma-separated subset to build (default: all)
  --out      where archives and SHA256SUMS go (default: dist/release)
  --cache    where the @oven/bun-* runtimes are kept (default: .release-cache)`;

function formatSize(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(argv: string[]): Promise<number> {
  let targets: ReleaseTarget[];
  let outDir: string;
  let cacheDir: string;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { targets: { type: "string" }, out: { type: "string" }, cache: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    targets = parseTargets(values.targets);
    outDir = path.resolve(values.out ?? path.join(root, "dist/release"));
    cacheDir = path.resolve(values.cache ?? path.join(root, ".release-cache"));
  } catch (error) {
    console.error(`release: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const started = performance.now();
  console.log(`log_server ${pkg.version}: building ${targets.map((t) => t.name).join(", ")} with bun ${Bun.version} into ${outDir}`);
  const built = await buildRelease({ targets, outDir, cacheDir, log: (line) => console.log(line) });
  console.log(`built in ${((performance.now() - started) / 1000).toFixed(1)}s:`);
  const width = Math.max(...built.map((b) => b.file.length));
  for (const b of built) console.log(`  ${path.join(outDir, b.file).padEnd(outDir.length + 1 + width)}  ${formatSize(b.bytes).padStart(10)}  sha256 ${b.sha256}`);
  console.log(`  ${path.join(outDir, "SHA256SUMS")}`);
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    console.error(`release: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
