// Builds TCP frames the way real clients do: capnp-es (the reference implementation) serialises a
// packed LoggerMsg, and a 4-byte big-endian length goes in front.
import { Message } from "capnp-es";
import { HelloMsg } from "../../src/capnp/hello.ts";
import { LoggerMsg } from "../../src/capnp/logger.ts";

export interface RecordText {
  timestamp?: string;
  hostname?: string;
  loggerName?: string;
  module?: string;
  level?: number;
  filename?: string;
  functionName?: string;
  lineNumber?: string;
  message?: string;
  pathName?: string;
  processId?: string;
  processName?: string;
  threadId?: string;
  threadName?: string;
  serviceName?: string;
  stackTrace?: string;
}

const TEXT_KEYS = [
  "timestamp", "hostname", "loggerName", "module", "filename", "functionName", "lineNumber", "message",
  "pathName", "processId", "processName", "threadId", "threadName", "serviceName", "stackTrace",
] as const;

export function packedLoggerMsg(record: RecordText): Uint8Array {
  const message = new Message();
  const root = message.initRoot(LoggerMsg);
  for (const key of TEXT_KEYS) {
    const value = record[key];
    if (value !== undefined) root[key] = value;
  }
  if (record.level !== undefined) root.level = record.level as never;
  return new Uint8Array(message.toPackedArrayBuffer());
}

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, false);
  out.set(payload, 4);
  return out;
}

export function logFrame(record: RecordText): Uint8Array {
  return frame(packedLoggerMsg(record));
}

export const HEARTBEAT = new Uint8Array(4);

export function helloFrame(fromName: string, fromHost: string): Uint8Array {
  const message = new Message();
  const root = message.initRoot(HelloMsg);
  root.fromName = fromName;
  root.fromHost = fromHost;
  return frame(new Uint8Array(message.toArrayBuffer()));
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
