// The contract between the ordered writer and the file it appends to. The real implementation is
// RotatingFile; tests substitute slow or failing ones to drive the writer's backpressure and retries.

export interface LogFile {
  /** Path of the live file (for messages). */
  readonly path: string;
  /** Bytes in the live file, as far as this process knows. */
  readonly size: number;
  /** Opens (creating if needed) the live file in append mode. */
  open(): Promise<void>;
  /** One write call: appends up to `length` bytes from `bytes[offset]`; resolves with how many were written. */
  write(bytes: Uint8Array, offset: number, length: number): Promise<number>;
  /** Flushes written data to stable storage. */
  sync(): Promise<void>;
  /** Live file → backup .0, older backups shift up, the oldest beyond the count is removed; a fresh live file is opened. */
  rotate(): Promise<void>;
  /** Closes and opens the live path again (after an external logrotate moved it). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}
