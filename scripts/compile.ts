// One place that knows how to turn src/main.ts into a `log_server` executable; used by
// `bun run build` (this machine) and `bun run release` (every platform).
import path from "node:path";

const root = path.resolve(import.meta.dir, "..");
/** Worker entry points must be named to the bundler to be inside the executable. */
const DECODE_WORKER = path.join(root, "src/tcp/decode-worker.ts");

export interface CompileOptions {
  /** Output path, relative to the repo root or absolute. */
  outfile: string;
  /** Bun target such as "bun-linux-arm64"; omitted = this machine. */
  target?: string;
  /** A bun runtime binary for `target` (from the @oven/bun-<os>-<arch> npm package), so nothing is downloaded. */
  executablePath?: string;
}

export async function compileLogServer(options: CompileOptions): Promise<string> {
  const outfile = path.resolve(root, options.outfile);
  const args = ["build", "--compile", "--minify-syntax", "--sourcemap=none", path.join(root, "src/main.ts"), DECODE_WORKER, "--outfile", outfile];
  if (options.target) args.push(`--target=${options.target}`);
  if (options.executablePath) args.push(`--compile-executable-path=${options.executablePath}`);
  const proc = Bun.spawn([process.execPath, ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`bun build --compile failed for ${options.target ?? "this machine"} (exit ${code}):\n${out}${err}`);
  return outfile;
}
