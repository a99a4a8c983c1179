// The decode workers of the TCP listener. Each connection is pinned to one worker (round robin at
// connect), so its reads are decoded in order; responses come back through `onResponse`. Tracks the
// bytes handed to workers and not yet answered, which count toward the writer's backlog bound.
// A worker that dies (an uncaught error ends a Bun worker) is replaced at once; its connections are
// reported through `onLost` so the listener can close them: their unanswered reads are gone, and
// numbers it had taken for them become gap markers in the file.
import { isCompiledExecutable } from "../compiled.ts";
import type { DecodeRequest, DecodeResponse } from "./decode-protocol.ts";

/**
 * The worker's entry point. Under `bun run` it sits beside this file; in a compiled executable it is
 * a separate entry point of the bundle (scripts/compile.ts), stored relative to src/, and this module
 * is bundled into the main entry at the root.
 */
export const DECODE_WORKER_URL = isCompiledExecutable()
  ? new URL("./tcp/decode-worker.ts", import.meta.url)
  : new URL("./decode-worker.ts", import.meta.url);

/** Bun's worker error messages carry a source excerpt; operational messages want the one error line. */
function errorSummary(message: string): string {
  return /^(?:error|\w*Error): (.+)$/m.exec(message)?.[1] ?? message.split("\n")[0];
}

export interface DecodePoolOptions {
  size: number;
  sequence: SharedArrayBuffer;
  onResponse: (response: DecodeResponse) => void;
  /** A worker died: `connections` lost `reads` unanswered reads and must be closed. */
  onLost: (connections: number[], reads: number, error: string) => void;
  /** Tests substitute a worker that misbehaves on purpose. */
  workerUrl?: URL;
}

/** One worker and what it owes. */
interface Slot {
  worker: Worker;
  connections: Set<number>;
  inFlight: number;
  inFlightBytes: number;
}

export class DecodePool {
  readonly #slots: Slot[] = [];
  readonly #assigned = new Map<number, Slot>();
  readonly #options: DecodePoolOptions;
  #next = 0;
  #nextRecycle = 0;
  #inFlight = 0;
  inFlightBytes = 0;
  #idleWaiters: Array<() => void> = [];
  #terminated = false;

  constructor(options: DecodePoolOptions) {
    this.#options = options;
    for (let i = 0; i < options.size; i++) this.#slots.push(this.#spawn());
  }

  #spawn(): Slot {
    const worker = new Worker(this.#options.workerUrl ?? DECODE_WORKER_URL);
    const slot: Slot = { worker, connections: new Set(), inFlight: 0, inFlightBytes: 0 };
    worker.onmessage = (event: MessageEvent<DecodeResponse>) => {
      const response = event.data;
      this.#settle(slot, 1, response.requestBytes);
      this.#options.onResponse(response);
      if (this.#inFlight === 0) this.#wakeIdle();
    };
    worker.onerror = (event: ErrorEvent) => this.#replace(slot, errorSummary(event.message));
    const init: DecodeRequest = { kind: "init", sequence: this.#options.sequence };
    worker.postMessage(init);
    worker.unref();
    return slot;
  }

  #settle(slot: Slot, reads: number, bytes: number): void {
    slot.inFlight -= reads;
    slot.inFlightBytes -= bytes;
    this.#inFlight -= reads;
    this.inFlightBytes -= bytes;
  }

  /** A dead worker's reads will never be answered: drop them, start a new worker, report its connections. */
  #replace(dead: Slot, error: string): void {
    const index = this.#slots.indexOf(dead);
    if (index < 0 || this.#terminated) return;
    dead.worker.terminate();
    this.#slots[index] = this.#spawn();
    const lostReads = dead.inFlight;
    this.#settle(dead, dead.inFlight, dead.inFlightBytes);
    const connections = [...dead.connections];
    for (const connection of connections) this.#assigned.delete(connection);
    this.#options.onLost(connections, lostReads, error);
    if (this.#inFlight === 0) this.#wakeIdle();
  }

  /** Hands a read of `connection` to its worker; the bytes are transferred, not copied. */
  submit(connection: number, bytes: Uint8Array): void {
    let slot = this.#assigned.get(connection);
    if (slot === undefined) {
      slot = this.#slots[this.#next++ % this.#slots.length];
      slot.connections.add(connection);
      this.#assigned.set(connection, slot);
    }
    slot.inFlight++;
    slot.inFlightBytes += bytes.length;
    this.#inFlight++;
    this.inFlightBytes += bytes.length;
    const request: DecodeRequest = { kind: "data", connection, bytes };
    // A read that is a view into a larger buffer cannot be transferred alone; copy it.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    if (!whole) request.bytes = bytes.slice();
    slot.worker.postMessage(request, { transfer: [request.bytes.buffer as ArrayBuffer] });
  }

  /** Returns an output buffer to a worker for reuse. */
  recycle(buffer: ArrayBuffer): void {
    if (this.#terminated) return;
    const slot = this.#slots[this.#nextRecycle++ % this.#slots.length];
    const request: DecodeRequest = { kind: "recycle", buffer };
    slot.worker.postMessage(request, { transfer: [buffer] });
  }

  /** The connection is gone: its worker drops its state after answering what was already submitted. */
  end(connection: number): void {
    const slot = this.#assigned.get(connection);
    if (slot === undefined) return;
    this.#assigned.delete(connection);
    slot.connections.delete(connection);
    const request: DecodeRequest = { kind: "end", connection };
    slot.worker.postMessage(request);
  }

  /** Resolves once every submitted read has been answered (or lost with its worker). */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  terminate(): void {
    this.#terminated = true;
    for (const slot of this.#slots) slot.worker.terminate();
  }
}
