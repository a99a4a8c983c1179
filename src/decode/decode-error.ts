// The one error type the Cap'n Proto readers throw for bad input. Callers can rely on it: anything else
// escaping a decoder is a bug in the decoder, not in the client's frame.

/** Short machine-friendly codes (stable; safe to use in metrics and logs). */
export type DecodeReason =
  | "truncated-packed" // packed tag stream ends inside a word or run
  | "too-large" // unpacked size would exceed the hard cap (see packed.ts)
  | "not-word-aligned" // an unpacked message whose length is not a multiple of 8
  | "segment-table" // segment count/sizes are impossible or do not match the bytes present
  | "pointer-out-of-bounds" // a pointer's target lies outside its segment
  | "far-pointer" // far pointer to an unknown segment, bad landing pad, or far-to-far chain
  | "wrong-root-type" // root pointer is not a struct pointer
  | "not-text" // a Text field's pointer is not a list of bytes
  | "text-not-terminated" // a Text byte list that is empty or does not end in NUL
  | "traversal-limit"; // texts add up to more bytes than the message holds (aliasing amplification)

export class DecodeError extends Error {
  readonly reason: DecodeReason;

  constructor(reason: DecodeReason, detail: string) {
    super(`invalid Cap'n Proto message (${reason}): ${detail}`);
    this.name = "DecodeError";
    this.reason = reason;
  }
}
