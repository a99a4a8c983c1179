// The heart of the server: takes formatted lines tagged with their sequence number, possibly out of
// order, and appends them to the log file strictly in sequence order, in batches, one write call per
// batch. Early lines wait in a map until their turn; a number that never arrives is given up after
// the gap timeout and replaced by a visible gap marker. Failed writes are retried with exponential
// backoff for as long as it takes; nothing queued is dropped or reordered.
//
// All file operations (writes, rotation, fsync, reopen) happen in one loop, `#run`, so they never
// overlap and their order is the order of this code.
import type { FsyncPolicy } from "../config.ts";
import { ByteBuffer } from "../format/byte-buffer.ts";
import { gapMarkerLine } from "../format/gap-marker.ts";
import type { OpsLog } from "../ops-log.ts";
import type { LogFile } from "./log-file.ts";

export interface OrderedWriterOptions {
  /** The first sequence number this writer will see. */
  firstSequence: number;
  maxFileBytes: number;
  gapTimeoutMs: number;
  fsync: FsyncPolicy;
  /** Above this many pending bytes the writer reports itself saturated (backpressure for the listeners). */
  maxPendingBytes: number;
  ops: OpsLog;
}

/** Counters read by /metrics; plain fields so the hot path only increments numbers. */
export interface WriterStats {
  recordsWritten: number;
  bytesWritten: number;
  batches: number;
  rotations: number;
  writeErrors: number;
  writeRetries: number;
  gaps: number;
  lateRecords: number;
  fsyncs: number;
}

export const MIN_BATCH_RECORDS = 10;
export const MAX_BATCH_RECORDS = 1000;
/** A batch also stops at this many bytes, so a burst of huge records does not become one giant write. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Retry delays: 100 ms, 200 ms, 400 ms … capped here while a fault lasts. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;
/** After this many failed attempts the fault is reported (the seed's 3 tries) and health turns bad. */
const RETRIES_BEFORE_REPORT = 3;

/**
 * Staged lines live in blocks of this size (a line larger than a block gets a block of its own). Blocks
 * are written from and recycled, so memory follows the backlog instead of doubling one big buffer.
 */
export const BLOCK_BYTES = 1024 * 1024;
/** Empty blocks kept for reuse. */
const SPARE_BLOCKS = 4;

/** A block of lines formatted in sequence order, waiting for (or in) a write. */
class Block {
  readonly buf: ByteBuffer;
  /** End offset of each line in `buf`. */
  ends: number[] = [];
  /** For each line, the highest sequence number that is settled once it is written. */
  settles: number[] = [];
  /** Lines of this block already in the file. */
  written = 0;

  constructor(capacity: number) {
    this.buf = new ByteBuffer(capacity);
  }

  get unwritten(): number {
    return this.ends.length - this.written;
  }

  push(settles: number): void {
    this.ends.push(this.buf.pos);
    this.settles.push(settles);
  }

  clear(): void {
    this.buf.pos = 0;
    this.ends = [];
    this.settles = [];
    this.written = 0;
  }
}

export class OrderedWriter {
  readonly stats: WriterStats = {
    recordsWritten: 0,
    bytesWritten: 0,
    batches: 0,
    rotations: 0,
    writeErrors: 0,
    writeRetries: 0,
    gaps: 0,
    lateRecords: 0,
    fsyncs: 0,
  };

  #file: LogFile;
  #options: OrderedWriterOptions;
  /** The next sequence number to place in the file. */
  #next: number;
  /** Highest sequence number such that it and all before it are written (and synced, under --fsync batch). */
  #settled: number;
  /** Staged lines, oldest first; new lines go into the last block. */
  #blocks: Block[] = [new Block(BLOCK_BYTES)];
  #spare: Block[] = [];
  /** Bytes staged in blocks and not yet written. */
  #stagedBytes = 0;
  #stagedLines = 0;
  /** Lines that arrived before their turn, by sequence number. */
  #early = new Map<number, Uint8Array>();
  #earlyBytes = 0;
  /** Where an out-of-order line is formatted before it is copied into `#early`. */
  #side = new ByteBuffer(4096);
  #gapTimer: ReturnType<typeof setTimeout> | null = null;
  #gapSince = 0;

  #running = false;
  #scheduled = false;
  #batchLimit = 100;
  #healthy = true;
  #unsynced = false;
  #lastSync = performance.now();
  #syncTimer: ReturnType<typeof setInterval> | null = null;
  #reopenWaiters: Array<() => void> = [];
  #idleWaiters: Array<() => void> = [];
  #closed = false;

  #wasSaturated = false;
  #settledListeners: Array<(settled: number) => void> = [];
  #resumeListeners: Array<() => void> = [];
  #healthListeners: Array<(healthy: boolean) => void> = [];

  constructor(file: LogFile, options: OrderedWriterOptions) {
    this.#file = file;
    this.#options = options;
    this.#next = options.firstSequence;
    this.#settled = options.firstSequence - 1;
    if (options.fsync.kind === "interval") {
      const ms = options.fsync.ms;
      this.#syncTimer = setInterval(() => {
        if (this.#unsynced && performance.now() - this.#lastSync >= ms) this.#schedule();
      }, ms);
      this.#syncTimer.unref?.();
    }
  }

  /** Highest sequence number that is settled: it and everything before it are in the file. */
  get settled(): number {
    return this.#settled;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Bytes received by a listener but not yet handed to this writer (e.g. reads in decode workers). */
  externalPendingBytes = 0;

  /** Bytes not yet written: staged, being written, early, and still on their way (`externalPendingBytes`). */
  get pendingBytes(): number {
    return this.#stagedBytes + this.#earlyBytes + this.externalPendingBytes;
  }

  get pendingRecords(): number {
    return this.#stagedLines + this.#early.size;
  }

  get filePath(): string {
    return this.#file.path;
  }

  /**
   * True while pending bytes are at or over --max_pending_bytes: TCP sockets stop being read and gRPC
   * calls are refused until `onResume` fires (pending bytes back under half the bound).
   */
  get saturated(): boolean {
    if (this.pendingBytes < this.#options.maxPendingBytes) return false;
    this.#wasSaturated = true;
    return true;
  }

  onResume(listener: () => void): void {
    this.#resumeListeners.push(listener);
  }

  /** Called once per written batch with the new settled sequence (gRPC acknowledgements hang off this). */
  onSettled(listener: (settled: number) => void): void {
    this.#settledListeners.push(listener);
  }

  onHealthChange(listener: (healthy: boolean) => void): void {
    this.#healthListeners.push(listener);
  }

  /**
   * Where to format the line of record `sequence`, at most `maxBytes` long: the staging block itself
   * when it is the record's turn (zero extra copies), otherwise a side buffer. Follow with `commitLine`.
   */
  lineBuffer(sequence: number, maxBytes: number): ByteBuffer {
    if (this.#closed) throw new Error("the writer is closed");
    if (sequence <= this.#next) return this.#room(maxBytes).buf;
    this.#side.reset(BLOCK_BYTES);
    return this.#side;
  }

  /** Completes the line of `sequence` that was formatted into `buffer` (from `lineBuffer`). */
  commitLine(sequence: number, buffer: ByteBuffer): void {
    const block = this.#blocks[this.#blocks.length - 1];
    if (buffer !== block.buf) {
      const line = buffer.bytes.slice(0, buffer.pos);
      this.#early.set(sequence, line);
      this.#earlyBytes += line.length;
      this.#armGapTimer();
      return;
    }
    if (sequence === this.#next) {
      this.#stage(block, sequence);
      this.#next = sequence + 1;
      if (this.#early.size > 0) this.#drainEarly();
    } else {
      // Its number was already given up as a gap: write it late rather than lose it.
      this.stats.lateRecords++;
      this.#stage(block, this.#next - 1);
    }
    this.#schedule();
  }

  /** The block to append a line of up to `bytes` to: the last one, or a new one if it has no room. */
  #room(bytes: number): Block {
    const last = this.#blocks[this.#blocks.length - 1];
    if (last.buf.bytes.length - last.buf.pos >= bytes) return last;
    let block: Block;
    if (last.ends.length === 0) {
      last.buf.ensure(bytes); // an empty block that is too small for one huge line: grow it
      return last;
    }
    if (bytes <= BLOCK_BYTES && this.#spare.length > 0) block = this.#spare.pop() as Block;
    else block = new Block(Math.max(BLOCK_BYTES, bytes));
    this.#blocks.push(block);
    return block;
  }

  /** Records the line just appended to `block` (which must be the last block). */
  #stage(block: Block, settles: number): void {
    const start = block.ends.length === 0 ? 0 : block.ends[block.ends.length - 1];
    block.push(settles);
    this.#stagedBytes += block.buf.pos - start;
    this.#stagedLines++;
  }

  /** Appends a complete line made elsewhere (an early line, a gap marker). */
  #appendLine(line: Uint8Array, settles: number): void {
    const block = this.#room(line.length);
    block.buf.append(line);
    this.#stage(block, settles);
  }

  /** Writes everything pending, syncs, and closes the file. Missing sequence numbers are marked as gaps at once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#early.size > 0) this.#declareGap();
    await this.whenIdle();
    this.#closed = true;
    if (this.#syncTimer) clearInterval(this.#syncTimer);
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    await this.#retrying("sync", () => this.#file.sync());
    await this.#file.close();
  }

  /** Resolves when nothing is staged or being written. */
  whenIdle(): Promise<void> {
    if (!this.#running && !this.#scheduled && this.#stagedLines === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Closes and reopens the live file after what is in flight (SIGHUP, external logrotate). */
  reopen(): Promise<void> {
    return new Promise((resolve) => {
      this.#reopenWaiters.push(resolve);
      this.#schedule();
    });
  }

  #drainEarly(): void {
    let line = this.#early.get(this.#next);
    while (line !== undefined) {
      this.#early.delete(this.#next);
      this.#earlyBytes -= line.length;
      this.#appendLine(line, this.#next);
      this.#next++;
      line = this.#early.get(this.#next);
    }
    if (this.#early.size === 0 && this.#gapTimer) {
      clearTimeout(this.#gapTimer);
      this.#gapTimer = null;
    }
  }

  #armGapTimer(): void {
    if (this.#gapTimer) return;
    this.#gapSince = performance.now();
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = null;
      if (this.#early.size === 0) return;
      this.#declareGap();
      if (this.#early.size > 0) this.#armGapTimer();
      this.#schedule();
    }, this.#options.gapTimeoutMs);
  }

  /** Gives up the missing numbers before the lowest early line: a marker line takes their place. */
  #declareGap(): void {
    let lowest = Number.POSITIVE_INFINITY;
    for (const sequence of this.#early.keys()) if (sequence < lowest) lowest = sequence;
    const waited = Math.round(performance.now() - this.#gapSince);
    this.#appendLine(gapMarkerLine(this.#next, lowest - 1, waited), lowest - 1);
    this.stats.gaps++;
    this.#options.ops.error(
      `sequence ${this.#next}${lowest - 1 > this.#next ? `..${lowest - 1}` : ""} never reached the writer within ${waited} ms; wrote a gap marker and continued`,
    );
    this.#next = lowest;
    this.#drainEarly();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate lets every record that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#run();
    });
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        if (this.#reopenWaiters.length > 0) await this.#reopenNow();
        if (this.#stagedLines > 0) {
          await this.#writeBlock(this.#blocks[0]);
          continue;
        }
        if (this.#unsynced && this.#syncDue()) await this.#syncNow();
        if (this.#reopenWaiters.length === 0 && this.#stagedLines === 0) break;
      }
    } finally {
      this.#running = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #syncDue(): boolean {
    const policy = this.#options.fsync;
    return policy.kind === "interval" && performance.now() - this.#lastSync >= policy.ms;
  }

  /**
   * Writes the unwritten lines of `block` (the oldest), in batches. Lines appended to it meanwhile are
   * written too. A finished block is recycled, unless it is the one still being filled.
   */
  async #writeBlock(block: Block): Promise<void> {
    const { ends, settles } = block;
    while (block.written < ends.length) {
      const first = block.written;
      const start = first === 0 ? 0 : ends[first - 1];
      if (this.#file.size > 0 && this.#file.size + (ends[first] - start) > this.#options.maxFileBytes) {
        await this.#rotate();
      }
      const room = this.#options.maxFileBytes - this.#file.size;
      let last = first; // exclusive end of the batch
      const limit = Math.min(ends.length, first + this.#batchLimit);
      while (last < limit && ends[last] - start <= MAX_BATCH_BYTES && ends[last] - start <= room) last++;
      if (last === first) last = first + 1; // one record larger than the limits goes alone
      const end = ends[last - 1];
      // The block may be appended to (never moved under these bytes) while this write is in flight.
      await this.#writeFully(block.buf.bytes, start, end);
      block.written = last;
      this.#stagedBytes -= end - start;
      this.#stagedLines -= last - first;
      this.stats.batches++;
      this.stats.recordsWritten += last - first;
      this.stats.bytesWritten += end - start;
      this.#unsynced = true;
      if (this.#options.fsync.kind === "batch" || (this.#options.fsync.kind === "interval" && this.#syncDue())) {
        await this.#syncNow();
      }
      this.#settle(settles[last - 1]);
      this.#adaptBatchLimit(this.#stagedLines);
    }
    if (this.#blocks.length > 1) {
      this.#blocks.shift();
      block.clear();
      if (block.buf.bytes.length === BLOCK_BYTES && this.#spare.length < SPARE_BLOCKS) this.#spare.push(block);
    } else {
      block.clear(); // still the filling block: start it over
    }
    this.#checkResume();
  }

  /** Grows the batch with the backlog (up to 1000 records) and shrinks it when the backlog is small. */
  #adaptBatchLimit(backlog: number): void {
    if (backlog > this.#batchLimit * 2) this.#batchLimit = Math.min(MAX_BATCH_RECORDS, this.#batchLimit * 2);
    else if (backlog < this.#batchLimit / 4) this.#batchLimit = Math.max(MIN_BATCH_RECORDS, this.#batchLimit >> 1);
  }

  #checkResume(): void {
    if (this.#wasSaturated && this.pendingBytes < this.#options.maxPendingBytes / 2) {
      this.#wasSaturated = false;
      for (const listener of this.#resumeListeners) listener();
    }
  }

  #settle(sequence: number): void {
    this.#checkResume();
    if (sequence <= this.#settled) return;
    this.#settled = sequence;
    for (const listener of this.#settledListeners) listener(sequence);
  }

  async #writeFully(bytes: Uint8Array, start: number, end: number): Promise<void> {
    let offset = start;
    await this.#retrying("write", async () => {
      // A short write leaves its bytes in the file; only the rest is written again.
      while (offset < end) offset += await this.#file.write(bytes, offset, end - offset);
    });
  }

  async #rotate(): Promise<void> {
    await this.#retrying("rotate", () => this.#file.rotate());
    this.stats.rotations++;
  }

  async #syncNow(): Promise<void> {
    await this.#retrying("sync", () => this.#file.sync());
    this.stats.fsyncs++;
    this.#unsynced = false;
    this.#lastSync = performance.now();
  }

  async #reopenNow(): Promise<void> {
    const waiters = this.#reopenWaiters;
    this.#reopenWaiters = [];
    await this.#retrying("reopen", () => this.#file.reopen());
    this.#options.ops.info(`reopened ${this.#file.path}`);
    for (const resolve of waiters) resolve();
  }

  /** Runs a file operation until it succeeds: backoff 100 ms doubling to 5 s; reported once per episode. */
  async #retrying(what: string, operation: () => Promise<void>): Promise<void> {
    let failures = 0;
    const episodeStart = performance.now();
    for (;;) {
      try {
        await operation();
        if (failures >= RETRIES_BEFORE_REPORT) {
          const seconds = ((performance.now() - episodeStart) / 1000).toFixed(1);
          this.#options.ops.info(`${what} of ${this.#file.path} works again after ${failures} failed attempts over ${seconds} s; nothing was lost`);
        }
        if (!this.#healthy) this.#setHealthy(true);
        return;
      } catch (error) {
        failures++;
        this.stats.writeErrors++;
        if (failures === RETRIES_BEFORE_REPORT) {
          const e = error as NodeJS.ErrnoException;
          this.#options.ops.error(
            `${what} of ${this.#file.path} failed ${failures} times (${e.code ?? e.message}); ` +
              `${this.pendingRecords} records (${this.pendingBytes} bytes) stay queued and are retried every ${RETRY_MAX_MS / 1000} s at most`,
          );
          this.#setHealthy(false);
        }
        const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failures - 1));
        await Bun.sleep(delay);
        this.stats.writeRetries++;
      }
    }
  }

  #setHealthy(healthy: boolean): void {
    this.#healthy = healthy;
    for (const listener of this.#healthListeners) listener(healthy);
  }
}
