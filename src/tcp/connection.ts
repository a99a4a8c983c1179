// One TCP client: its frame parser, its identity (from the optional handshake), and what to do with
// each frame. Decoding is synchronous and writes into one shared LogFields, so a frame costs no
// allocation; any bad frame ends this connection only.
import { DecodeError } from "../decode/decode-error.ts";
import { decodeHelloFrame, isUnpackedHello } from "../decode/hello-msg.ts";
import { decodeLoggerFrame } from "../decode/logger-msg.ts";
import type { RecordSink } from "../pipeline/record-sink.ts";
import { LogFields } from "../record/log-fields.ts";
import { type FrameHandler, FrameParser } from "./frame-parser.ts";

/** Shared by every connection: frames are decoded and consumed one at a time on this thread. */
const decoded = new LogFields();

export class Connection implements FrameHandler {
  readonly parser: FrameParser;
  /** "fromName@fromHost" from the handshake, if the client sent one. */
  identity: string | null = null;
  records = 0;
  /** Set once the connection is being closed for a bad frame; later reads are ignored. */
  closed = false;
  readonly openedAt = performance.now();
  /** Last time any bytes arrived (heartbeats count), for idle timeouts. */
  lastActivity = this.openedAt;
  /** A complete frame (a heartbeat counts) has arrived: the first-frame deadline no longer applies. */
  sawFirstFrame = false;

  constructor(
    readonly peer: string,
    readonly sink: RecordSink,
  ) {
    this.parser = new FrameParser(this);
  }

  /** How the client is named in messages: its address, plus its handshake identity when known. */
  describe(): string {
    return this.identity ? `${this.identity} (${this.peer})` : this.peer;
  }

  onHeartbeat(): void {
    this.sawFirstFrame = true;
  }

  onFrame(bytes: Uint8Array, start: number, end: number): void {
    this.sawFirstFrame = true;
    if (this.parser.frames === 1 && isUnpackedHello(bytes, start, end)) {
      const hello = decodeHelloFrame(bytes, start, end);
      this.identity = `${hello.fromName || "?"}@${hello.fromHost || "?"}`;
      return;
    }
    decodeLoggerFrame(bytes, start, end, decoded);
    this.sink.accept(decoded, "tcp");
    this.records++;
  }

  /** Why a frame failed, for the one line that reports the closed connection. */
  static describeError(error: unknown): { reason: string; detail: string } {
    if (error instanceof DecodeError) return { reason: error.reason, detail: error.message };
    if (error instanceof Error && "reason" in error) return { reason: String(error.reason), detail: error.message };
    return { reason: "internal", detail: error instanceof Error ? error.message : String(error) };
  }
}
