// Finds the highest sequence number already written, so a restarted server continues after it
// instead of starting again at 0. Reads only the tail of the file, backwards, in chunks.
import { closeSync, openSync, readSync, fstatSync } from "node:fs";

const CHUNK = 64 * 1024;
/** Scan at most this much of a file's tail: a torn or binary tail must not make startup read gigabytes. */
const MAX_SCAN = 64 * 1024 * 1024;

/** The sequence number that starts the last complete line of `file`, or null (missing, empty, or none found). */
export function lastSequenceIn(file: string): number | null {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    let tail = new Uint8Array(0);
    for (let end = size; end > 0 && size - end < MAX_SCAN; ) {
      const start = Math.max(0, end - CHUNK);
      const chunk = new Uint8Array(end - start);
      readSync(fd, chunk, 0, chunk.length, start);
      const joined = new Uint8Array(chunk.length + tail.length);
      joined.set(chunk);
      joined.set(tail, chunk.length);
      tail = joined;
      end = start;
      const found = lastLeadingNumber(tail, start === 0);
      if (found !== undefined) return found;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Looks through lines from the end for one that starts with "<digits> ". A torn last line (crash
 * mid-write) counts too: its number was handed out, so it must not be handed out again.
 * undefined = need more of the file; null = the whole file was seen and no line qualifies.
 */
function lastLeadingNumber(bytes: Uint8Array, atFileStart: boolean): number | null | undefined {
  let lineEnd = bytes.length;
  while (lineEnd > 0) {
    const prev = bytes.lastIndexOf(0x0a, lineEnd - 1);
    if (prev < 0 && !atFileStart) return undefined; // the line may begin before this chunk
    let i = prev + 1;
    let value = 0;
    let digits = 0;
    while (i < lineEnd && bytes[i] >= 0x30 && bytes[i] <= 0x39 && digits < 16) {
      value = value * 10 + (bytes[i] - 0x30);
      i++;
      digits++;
    }
    if (digits > 0 && i < lineEnd && bytes[i] === 0x20) return value;
    if (prev < 0) break;
    lineEnd = prev;
  }
  return atFileStart ? null : undefined;
}
