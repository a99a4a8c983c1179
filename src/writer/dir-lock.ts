// One server per log directory: two writers appending to one _main.log would interleave lines and
// reuse sequence numbers. The lock is a file holding the owner's PID, created exclusively; a lock left
// by a process that no longer runs (crash, SIGKILL) is taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

export const LOCK_FILE_NAME = ".log_server.lock";

export class DirLockError extends Error {}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by someone else
  }
}

export class DirLock {
  readonly path: string;
  #held = false;

  constructor(dir: string) {
    this.path = path.join(dir, LOCK_FILE_NAME);
  }

  /** Takes the lock; returns the PID of a dead previous owner whose lock was taken over, if any. */
  acquire(): number | null {
    let staleOwner: number | null = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.path, "wx");
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.#held = true;
        return staleOwner;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = Number.parseInt(readFileSync(this.path, "utf8"), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isRunning(owner)) {
        throw new DirLockError(
          `another log_server (pid ${owner}) is already writing to ${path.dirname(this.path)}; stop it or choose another --log_dir (lock file ${this.path}).`,
        );
      }
      staleOwner = Number.isInteger(owner) ? owner : null;
      rmSync(this.path, { force: true });
    }
    throw new DirLockError(`could not take the lock ${this.path}: another process keeps creating it.`);
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    rmSync(this.path, { force: true });
  }
}
