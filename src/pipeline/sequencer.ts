// The one global counter of the server: every accepted record, whichever protocol brought it and
// whichever thread decoded it, takes the next number. The counter lives in shared memory so decode
// workers can take a whole range for one read with a single atomic add. Numbers are taken only for
// records that decoded successfully, so a rejected frame never leaves a hole in the sequence.

export class Sequencer {
  readonly #counter: BigInt64Array;

  /** A view of the counter in `shared` (created by `startingAt`, passed to workers as is). */
  constructor(readonly shared: SharedArrayBuffer) {
    this.#counter = new BigInt64Array(shared);
  }

  /** A new counter whose first number is `next` (one past the highest already on disk). */
  static startingAt(next: number): Sequencer {
    const sequencer = new Sequencer(new SharedArrayBuffer(8));
    sequencer.#counter[0] = BigInt(next);
    return sequencer;
  }

  take(): number {
    return Number(Atomics.add(this.#counter, 0, 1n));
  }

  /** Takes `count` consecutive numbers; returns the first. */
  takeRange(count: number): number {
    return Number(Atomics.add(this.#counter, 0, BigInt(count)));
  }

  /** The number the next record will get. */
  peek(): number {
    return Number(Atomics.load(this.#counter, 0));
  }
}
