// _main.log in append mode (starting never truncates), rotated by size into _main.log.0 … .N-1.
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type { LogFile } from "./log-file.ts";

/** fs.write's own promisified form resolves to an object; the byte count is all the writer needs. */
function writeAsync(fd: number, buffer: Uint8Array, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, buffer, offset, length, null, (error, written) => (error ? reject(error) : resolve(written)));
  });
}
const fsyncAsync = promisify(fs.fsync);
const closeAsync = promisify(fs.close);

export class RotatingFile implements LogFile {
  readonly path: string;
  #fd: number | null = null;
  #size = 0;

  constructor(
    readonly dir: string,
    readonly fileName: string,
    readonly backupCount: number,
  ) {
    this.path = path.join(dir, fileName);
  }

  get size(): number {
    return this.#size;
  }

  backupPath(index: number): string {
    return `${this.path}.${index}`;
  }

  async open(): Promise<void> {
    const fd = fs.openSync(this.path, "a");
    this.#fd = fd;
    this.#size = fs.fstatSync(fd).size;
  }

  write(bytes: Uint8Array, offset: number, length: number): Promise<number> {
    const fd = this.#requireFd();
    return writeAsync(fd, bytes, offset, length).then((written) => {
      this.#size += written;
      return written;
    });
  }

  sync(): Promise<void> {
    return fsyncAsync(this.#requireFd());
  }

  async rotate(): Promise<void> {
    await this.close();
    if (this.backupCount === 0) {
      fs.rmSync(this.path, { force: true });
    } else {
      fs.rmSync(this.backupPath(this.backupCount - 1), { force: true });
      for (let i = this.backupCount - 2; i >= 0; i--) {
        if (fs.existsSync(this.backupPath(i))) fs.renameSync(this.backupPath(i), this.backupPath(i + 1));
      }
      if (fs.existsSync(this.path)) fs.renameSync(this.path, this.backupPath(0));
    }
    await this.open();
  }

  async reopen(): Promise<void> {
    await this.close();
    await this.open();
  }

  async close(): Promise<void> {
    const fd = this.#fd;
    if (fd === null) return;
    this.#fd = null;
    await closeAsync(fd);
  }

  #requireFd(): number {
    if (this.#fd === null) throw new Error(`${this.path} is not open`);
    return this.#fd;
  }
}
