// Whether this code runs inside a `bun build --compile` executable, whose modules live in Bun's
// virtual filesystem. Decides where default paths and worker entry points are.
export function isCompiledExecutable(): boolean {
  return import.meta.path.startsWith("/$bunfs/") || import.meta.path.includes("~BUN");
}
