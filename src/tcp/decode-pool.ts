// The decode workers of the TCP listener. Each connection is pinned to one worker (round robin at
// connect), so its reads are decoded in order; responses come back through `onResponse`. Tracks the
// bytes handed to workers and not yet answered, which count toward the writer's backlog bound.
import { isCompiledExecutable } from "../compiled.ts";
import type { DecodeRequest, DecodeResponse } from "./decode-protocol.ts";

/**
 * The worker's entry point. Under `bun run` it sits beside this file; in a compiled executable it is
 * a separate entry point of the bundle (scripts/compile.ts), stored relative to src/, and this module
 * is bundled into the main entry at the root.
 */
const DECODE_WORKER_URL = isCompiledExecutable()
  ? new URL("./tcp/decode-worker.ts", import.meta.url)
  : new URL("./decode-worker.ts", import.meta.url);

export class DecodePool {
  readonly #workers: Worker[] = [];
  readonly #assigned = new Map<number, Worker>();
  #next = 0;
  #nextRecycle = 0;
  #inFlight = 0;
  inFlightBytes = 0;
  #idleWaiters: Array<() => void> = [];
  #terminated = false;

  constructor(
    size: number,
    sequence: SharedArrayBuffer,
    onResponse: (response: DecodeResponse) => void,
    onCrash: (error: ErrorEvent) => void,
  ) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(DECODE_WORKER_URL);
      worker.onmessage = (event: MessageEvent<DecodeResponse>) => {
        const response = event.data;
        this.#inFlight--;
        this.inFlightBytes -= response.requestBytes;
        onResponse(response);
        if (this.#inFlight === 0) this.#wakeIdle();
      };
      worker.onerror = onCrash;
      const init: DecodeRequest = { kind: "init", sequence };
      worker.postMessage(init);
      worker.unref();
      this.#workers.push(worker);
    }
  }

  /** Hands a read of `connection` to its worker; the bytes are transferred, not copied. */
  submit(connection: number, bytes: Uint8Array): void {
    let worker = this.#assigned.get(connection);
    if (worker === undefined) {
      worker = this.#workers[this.#next++ % this.#workers.length];
      this.#assigned.set(connection, worker);
    }
    this.#inFlight++;
    this.inFlightBytes += bytes.length;
    const request: DecodeRequest = { kind: "data", connection, bytes };
    // A read that is a view into a larger buffer cannot be transferred alone; copy it.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    if (!whole) request.bytes = bytes.slice();
    worker.postMessage(request, { transfer: [request.bytes.buffer as ArrayBuffer] });
  }

  /** Returns an output buffer to a worker for reuse. */
  recycle(buffer: ArrayBuffer): void {
    if (this.#terminated) return;
    const worker = this.#workers[this.#nextRecycle++ % this.#workers.length];
    const request: DecodeRequest = { kind: "recycle", buffer };
    worker.postMessage(request, { transfer: [buffer] });
  }

  /** The connection is gone: its worker drops its state after answering what was already submitted. */
  end(connection: number): void {
    const worker = this.#assigned.get(connection);
    if (worker === undefined) return;
    this.#assigned.delete(connection);
    const request: DecodeRequest = { kind: "end", connection };
    worker.postMessage(request);
  }

  /** Resolves once every submitted read has been answered. */
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
    for (const worker of this.#workers) worker.terminate();
  }
}
