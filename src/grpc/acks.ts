// gRPC acknowledgements wait here until their record is in the file. Each entry is (sequence,
// callback, answer); entries are kept in increasing sequence order, so when the writer reports a
// written batch (`settle(settled)`) every entry up to `settled` is answered in one pass from the
// front: answers for a whole batch go out together, with no per-record timers or promises.
//
// A stream's answer is queued when the stream ends, possibly after unary records that were accepted
// later; to keep the order it waits for the highest sequence already queued (at most one more batch).
import type { sendUnaryData, ServerErrorResponse } from "@grpc/grpc-js";

export type AckCallback = sendUnaryData<unknown>;

export class AckQueue {
  #sequences: number[] = [];
  #callbacks: AckCallback[] = [];
  /** The response, or the error status (`#failed`) to answer with. */
  #answers: unknown[] = [];
  #failed: boolean[] = [];
  #head = 0;
  #settled: number;

  /**
   * `settled`: the highest sequence already in the file (answers up to it are sent at once).
   * `onCallbackError`: told if answering a call throws (the queue, and the writer calling it, go on).
   */
  constructor(
    settled: number,
    readonly onCallbackError: (error: unknown) => void = () => {},
  ) {
    this.#settled = settled;
  }

  /** Entries waiting for the writer. */
  get pending(): number {
    return this.#sequences.length - this.#head;
  }

  /** Answers `callback(null, response)` once `sequence` is in the file. */
  resolveWhenWritten(sequence: number, callback: AckCallback, response: unknown): void {
    this.#add(sequence, callback, response, false);
  }

  /** Answers `callback(error)` once `sequence` is in the file (a failed stream whose earlier records were kept). */
  rejectWhenWritten(sequence: number, callback: AckCallback, error: ServerErrorResponse): void {
    this.#add(sequence, callback, error, true);
  }

  #add(sequence: number, callback: AckCallback, answer: unknown, failed: boolean): void {
    if (sequence <= this.#settled) {
      this.#deliver(callback, answer, failed);
      return;
    }
    const sequences = this.#sequences;
    const last = sequences.length > this.#head ? sequences[sequences.length - 1] : sequence;
    sequences.push(sequence > last ? sequence : last);
    this.#callbacks.push(callback);
    this.#answers.push(answer);
    this.#failed.push(failed);
  }

  /** The writer has everything up to `settled` in the file: answer every entry it covers. */
  settle(settled: number): void {
    if (settled <= this.#settled) return;
    this.#settled = settled;
    const sequences = this.#sequences;
    const callbacks = this.#callbacks;
    const answers = this.#answers;
    const failed = this.#failed;
    const end = sequences.length;
    while (this.#head < end && sequences[this.#head] <= settled) {
      const i = this.#head++;
      const callback = callbacks[i];
      const answer = answers[i];
      callbacks[i] = undefined as unknown as AckCallback; // let the call be collected
      answers[i] = undefined;
      this.#deliver(callback, answer, failed[i]);
    }
    this.#compact();
  }

  #deliver(callback: AckCallback, answer: unknown, failed: boolean): void {
    try {
      if (failed) callback(answer as ServerErrorResponse);
      else callback(null, answer);
    } catch (error) {
      this.onCallbackError(error);
    }
  }

  /** Drops answered entries: all of them when the queue is empty, else when they are most of it. */
  #compact(): void {
    const head = this.#head;
    if (head === 0) return;
    if (head === this.#sequences.length) {
      this.#sequences.length = 0;
      this.#callbacks.length = 0;
      this.#answers.length = 0;
      this.#failed.length = 0;
      this.#head = 0;
    } else if (head >= 4096 && head * 2 >= this.#sequences.length) {
      this.#sequences.splice(0, head);
      this.#callbacks.splice(0, head);
      this.#answers.splice(0, head);
      this.#failed.splice(0, head);
      this.#head = 0;
    }
  }
}

