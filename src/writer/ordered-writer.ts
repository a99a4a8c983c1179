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
import { BLOCK_BYTES, Block, SPARE_BLOCKS } from "./block.ts";
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
  #blocks: Block[] = [Block.filling(BLOCK_BYTES)];
  #spare: Block[] = [];
  /** Bytes staged in blocks and not yet written. */
  #stagedBytes = 0;
  #stagedLines = 0;
  /** Lines that arrived before their turn, as blocks keyed by their first sequence number. */
  #early = new Map<number, Block>();
  #earlyBytes = 0;
  #earlyLines = 0;
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
  #syncInFlight: Promise<void> | null = null;
  #syncTimer: ReturnType<typeof setInterval> | null = null;
  #reopenWaiters: Array<() => void> = [];
  #idleWaiters: Array<() => void> = [];
  #closed = false;

  #wasSaturated = false;
  #settledListeners: Array<(settled: number) => void> = [];
  #resumeListeners: Array<() => void> = [];
  #healthListeners: Array<(healthy: boolean) => void> = [];
  #blockWrittenListeners: Array<(bytes: Uint8Array) => void> = [];

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
    return this.#stagedLines + this.#earlyLines;
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

  /** Called with the bytes of each block taken by `commitLines` once it is in the file, so they can be reused. */
  onBlockWritten(listener: (bytes: Uint8Array) => void): void {
    this.#blockWrittenListeners.push(listener);
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
      this.#keepEarly(sequence, Block.adopted(sequence, line, Int32Array.of(line.length)));
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

  /**
   * Takes lines `first` … `first + ends.length - 1`, formatted elsewhere (a decode worker) into
   * `bytes`, line i ending at `ends[i]`. The bytes are kept as they are, not copied.
   */
  commitLines(first: number, bytes: Uint8Array, ends: Int32Array): void {
    if (this.#closed) throw new Error("the writer is closed");
    const block = Block.adopted(first, bytes, ends);
    block.recyclable = true;
    if (first !== this.#next) {
      if (first > this.#next) {
        this.#keepEarly(first, block);
        return;
      }
      // Numbers already given up as a gap: write them late rather than lose them.
      this.stats.lateRecords += ends.length;
      this.#stageBlock(new Block(block.buf, ends, Array.from(ends, () => this.#next - 1), true));
      this.#schedule();
      return;
    }
    this.#stageBlock(block);
    this.#next = first + ends.length;
    if (this.#early.size > 0) this.#drainEarly();
    this.#schedule();
  }

  #keepEarly(first: number, block: Block): void {
    this.#early.set(first, block);
    this.#earlyBytes += block.buf.pos;
    this.#earlyLines += block.ends.length;
    this.#armGapTimer();
  }

  /** Queues a sealed block: before the filling block if that is empty, else after it with a fresh one behind. */
  #stageBlock(block: Block): void {
    const last = this.#blocks[this.#blocks.length - 1];
    if (!last.sealed && last.ends.length === 0 && this.#blocks.length > 1) {
      this.#blocks.splice(this.#blocks.length - 1, 0, block);
    } else {
      this.#blocks.push(block, this.#spare.pop() ?? Block.filling(BLOCK_BYTES));
    }
    this.#stagedBytes += block.buf.pos;
    this.#stagedLines += block.ends.length;
  }

  /** The block to append a line of up to `bytes` to: the last one, or a new one if it has no room. */
  #room(bytes: number): Block {
    const last = this.#blocks[this.#blocks.length - 1];
    if (!last.sealed && last.buf.bytes.length - last.buf.pos >= bytes) return last;
    let block: Block;
    if (!last.sealed && last.ends.length === 0) {
      last.buf.ensure(bytes); // an empty block that is too small for one huge line: grow it
      return last;
    }
    if (bytes <= BLOCK_BYTES && this.#spare.length > 0) block = this.#spare.pop() as Block;
    else block = Block.filling(Math.max(BLOCK_BYTES, bytes));
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
    await this.#syncInFlight;
    await this.#syncNow();
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
    let block = this.#early.get(this.#next);
    while (block !== undefined) {
      this.#early.delete(this.#next);
      this.#earlyBytes -= block.buf.pos;
      this.#earlyLines -= block.ends.length;
      this.#stageBlock(block);
      this.#next += block.ends.length;
      block = this.#early.get(this.#next);
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
        if (this.#unsynced && this.#syncDue()) this.#syncInBackground();
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
    while (block.written < block.ends.length) {
      const ends = block.ends;
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
      // Under `batch` an acknowledgement waits for the fsync; under `interval` it does not, so the
      // fsync runs beside the next writes instead of stalling them.
      if (this.#options.fsync.kind === "batch") await this.#syncNow();
      else if (this.#syncDue()) this.#syncInBackground();
      this.#settle(block.settlesAt(last - 1));
      this.#adaptBatchLimit(this.#stagedLines);
    }
    if (this.#blocks.length > 1) {
      this.#blocks.shift();
      if (block.recyclable) for (const listener of this.#blockWrittenListeners) listener(block.buf.bytes);
      if (!block.sealed && block.buf.bytes.length === BLOCK_BYTES && this.#spare.length < SPARE_BLOCKS) {
        block.clear();
        this.#spare.push(block);
      }
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
    // The live file is about to be closed: what was written to it gets its fsync first.
    await this.#syncInFlight;
    if (this.#unsynced && this.#options.fsync.kind !== "never") await this.#syncNow();
    await this.#retrying("rotate", () => this.#file.rotate());
    this.stats.rotations++;
  }

  async #syncNow(): Promise<void> {
    this.#unsynced = false;
    this.#lastSync = performance.now();
    await this.#retrying("sync", () => this.#file.sync());
    this.stats.fsyncs++;
  }

  /** Starts an fsync without waiting for it (at most one at a time); rotate, reopen and close wait for it. */
  #syncInBackground(): void {
    if (this.#syncInFlight !== null) return;
    this.#syncInFlight = this.#syncNow().finally(() => {
      this.#syncInFlight = null;
    });
  }

  async #reopenNow(): Promise<void> {
    const waiters = this.#reopenWaiters;
    this.#reopenWaiters = [];
    await this.#syncInFlight;
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
