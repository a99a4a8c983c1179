// The file contract for load tests: every record once, sequence numbers consecutive, and each
// connection's records in the order it sent them ("conn=<c> n=<i>" in the message).
import { expect } from "bun:test";

/** Checks the contract of the file: sequence numbers from `first`, strictly +1, and per-connection send order. */
export function checkNumberedRecords(lines: string[], connections: number, perConnection: number, first = 0): void {
  expect(lines).toHaveLength(connections * perConnection);
  const next = new Array(connections).fill(0);
  lines.forEach((line, i) => {
    expect(Number(line.split(" ", 1)[0])).toBe(first + i);
    const match = /conn=(\d+) n=(\d+)/.exec(line);
    expect(match).not.toBeNull();
    const [conn, n] = [Number(match?.[1]), Number(match?.[2])];
    expect(n).toBe(next[conn]);
    next[conn]++;
  });
  expect(next).toEqual(new Array(connections).fill(perConnection));
}
