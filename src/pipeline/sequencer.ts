// The one global counter of the server: every accepted record, whichever protocol brought it,
// takes the next number. Numbers are taken only once a record has been decoded successfully,
// so a rejected frame never leaves a hole in the sequence.

export class Sequencer {
  #next: number;

  /** `next` is the first number to hand out (one past the highest already on disk). */
  constructor(next: number) {
    this.#next = next;
  }

  take(): number {
    return this.#next++;
  }

  /** The number the next record will get. */
  peek(): number {
    return this.#next;
  }
}
