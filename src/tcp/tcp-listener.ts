// The TCP (Cap'n Proto) ingest server: Bun.listen with one handler object for every socket and the
// per-client state in socket.data. Each read is handed, untouched, to the connection's decode worker;
// the formatted lines it sends back are numbered and written here, on the main thread, in the order
// they return. Also enforces the connection rules: a cap on concurrent connections, a deadline for the
// first frame, an idle timeout, and backpressure (stop reading while the backlog is at its bound).
import type { Socket, TCPSocketListener } from "bun";
import type { OpsLog } from "../ops-log.ts";
import type { RecordSink } from "../pipeline/record-sink.ts";
import { Connection } from "./connection.ts";
import { DecodePool } from "./decode-pool.ts";
import type { DecodeResponse } from "./decode-protocol.ts";

export interface TcpListenerOptions {
  host: string;
  port: number;
  sink: RecordSink;
  ops: OpsLog;
  firstFrameTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  /** Decode worker threads. */
  decodeThreads: number;
  /** Tests substitute a decode worker that fails on purpose. */
  decodeWorkerUrl?: URL;
}

/** During shutdown a connection counts as drained once it has sent nothing for this long. */
const SHUTDOWN_QUIET_MS = 150;

export class TcpListener {
  #server: TCPSocketListener<Connection> | null = null;
  readonly connections = new Set<Socket<Connection>>();
  /** Frames rejected, by reason (for /metrics); timeouts and refusals are counted here too. */
  readonly rejected = new Map<string, number>();
  /** Sockets not being read because the writer's backlog is at its bound. */
  readonly paused = new Set<Socket<Connection>>();
  #sweepTimer: ReturnType<typeof setInterval> | null = null;
  #refusing = false;
  #draining = false;
  /** Connections by id, kept until their socket is closed and their last read is answered. */
  readonly #byId = new Map<number, Socket<Connection>>();
  readonly #pool: DecodePool;

  constructor(readonly options: TcpListenerOptions) {
    this.#pool = new DecodePool({
      size: options.decodeThreads,
      sequence: options.sink.sequencer.shared,
      onResponse: (response) => this.#accept(response),
      onLost: (connections, reads, error) => this.#lost(connections, reads, error),
      workerUrl: options.decodeWorkerUrl,
    });
  }

  /** A decode worker died with reads of these connections unanswered: those bytes are gone, so close them. */
  #lost(ids: number[], reads: number, error: string): void {
    this.options.ops.error(
      `a decode worker failed (${error}); it was replaced, but ${reads} reads from ${ids.length} connections were lost; ` +
        "closing those connections so their clients reconnect and resend",
    );
    for (const id of ids) {
      const socket = this.#byId.get(id);
      if (socket === undefined) continue;
      socket.data.pendingReads = 0;
      if (!socket.data.closed) this.#close(socket, "decoder-failure", "its decode worker failed");
      this.#forgetIfDone(socket);
    }
  }

  get port(): number {
    return this.#server?.port ?? 0;
  }

  start(): void {
    const listener = this;
    const { sink } = this.options;
    const writer = sink.writer;
    writer.onResume(() => this.#resumeAll());
    writer.onBlockWritten((bytes) => this.#pool.recycle(bytes.buffer as ArrayBuffer));
    this.#server = Bun.listen<Connection>({
      hostname: this.options.host,
      port: this.options.port,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          socket.data = new Connection(`${socket.remoteAddress}:${socket.remotePort}`);
          listener.#admit(socket);
        },
        data(socket, chunk) {
          const connection = socket.data;
          if (connection.closed) return;
          connection.lastActivity = performance.now();
          connection.pendingReads++;
          listener.#pool.submit(connection.id, chunk);
          writer.externalPendingBytes = listener.#pool.inFlightBytes;
          // What was read is always accepted in full; at the bound, stop reading until the backlog drains.
          if (writer.saturated && !listener.#draining) listener.#pause(socket);
        },
        close(socket) {
          socket.data.ended = true;
          listener.connections.delete(socket);
          listener.paused.delete(socket);
          listener.#forgetIfDone(socket);
          if (listener.#refusing && listener.connections.size < listener.options.maxConnections) listener.#refusing = false;
        },
        error(socket, error) {
          listener.options.ops.warn(`connection from ${socket.data?.describe() ?? "unknown client"} failed: ${error.message}`);
        },
      },
    });
    const sweepEvery = Math.max(10, Math.min(1000, this.options.firstFrameTimeoutMs / 4, this.options.idleTimeoutMs / 4));
    this.#sweepTimer = setInterval(() => this.#closeTimedOut(), sweepEvery);
    this.#sweepTimer.unref?.();
  }

  #admit(socket: Socket<Connection>): void {
    if (this.connections.size >= this.options.maxConnections) {
      if (!this.#refusing) {
        this.#refusing = true;
        this.options.ops.warn(
          `refusing new TCP connections: --max_connections ${this.options.maxConnections} reached (first refused: ${socket.data.peer})`,
        );
      }
      this.#count("max-connections");
      socket.data.closed = true;
      socket.terminate();
      return;
    }
    this.connections.add(socket);
    this.#byId.set(socket.data.id, socket);
  }

  /** A decode worker's answer for one read: hand its numbered lines to the writer, then act on what it saw. */
  #accept(response: DecodeResponse): void {
    // The lines hold numbers already taken from the shared counter: they are written in every case.
    const count = response.ends.length;
    if (count > 0) this.options.sink.acceptNumbered(response.first, response.lines, response.ends, "tcp");
    this.options.sink.writer.externalPendingBytes = this.#pool.inFlightBytes;
    const socket = this.#byId.get(response.connection);
    if (socket === undefined) return;
    const connection = socket.data;
    connection.pendingReads--;
    connection.records += count;
    if (response.sawFirstFrame) connection.sawFirstFrame = true;
    if (response.identity !== null) connection.identity = response.identity;
    const rejection = response.rejection;
    if (rejection !== null) {
      this.#close(socket, rejection.reason, `frame #${rejection.frame} rejected (${rejection.reason}): ${rejection.detail}`);
    }
    this.#forgetIfDone(socket);
  }

  #forgetIfDone(socket: Socket<Connection>): void {
    const connection = socket.data;
    if (!connection.ended || connection.pendingReads > 0) return;
    this.#byId.delete(connection.id);
    this.#pool.end(connection.id);
  }

  /** Closes connections that broke the first-frame deadline or went silent; paused ones are exempt (we stopped reading them). */
  #closeTimedOut(): void {
    const now = performance.now();
    const { firstFrameTimeoutMs, idleTimeoutMs } = this.options;
    for (const socket of this.connections) {
      const connection = socket.data;
      if (connection.closed || this.paused.has(socket)) continue;
      if (!connection.sawFirstFrame && now - connection.openedAt > firstFrameTimeoutMs) {
        this.#close(socket, "first-frame-timeout", `no complete frame within ${firstFrameTimeoutMs / 1000} s of connecting`);
      } else if (now - connection.lastActivity > idleTimeoutMs) {
        this.#close(socket, "idle-timeout", `nothing received for ${idleTimeoutMs / 1000} s`);
      }
    }
  }

  #pause(socket: Socket<Connection>): void {
    if (this.paused.size === 0) {
      this.options.ops.warn("write backlog reached --max_pending_bytes; pausing reads until it drains");
    }
    this.paused.add(socket);
    socket.pause();
  }

  #resumeAll(): void {
    if (this.paused.size === 0) return;
    this.options.ops.info(`write backlog drained; resuming reads on ${this.paused.size} connections`);
    for (const socket of this.paused) {
      socket.data.lastActivity = performance.now();
      socket.resume();
    }
    this.paused.clear();
  }

  #close(socket: Socket<Connection>, reason: string, why: string): void {
    const connection = socket.data;
    this.#count(reason);
    this.options.ops.warn(`closing connection from ${connection.describe()}: ${why}; ${connection.records} earlier records from it are kept`);
    connection.closed = true;
    // A hard close: a broken, hostile or silent client gets nothing more read from it.
    socket.terminate();
  }

  #count(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  /**
   * Shutdown: accepts no new connections, keeps reading the open ones until each has been quiet for a
   * moment (so what clients already sent is read and written), then closes them all. Bounded by `deadline`.
   */
  async drain(deadline: number): Promise<void> {
    this.#draining = true;
    this.#server?.stop(false);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    for (const socket of this.paused) socket.resume();
    this.paused.clear();
    const quiet = () => {
      const now = performance.now();
      for (const socket of this.connections) if (now - socket.data.lastActivity < SHUTDOWN_QUIET_MS) return false;
      return true;
    };
    while (this.connections.size > 0 && !quiet() && performance.now() < deadline) await Bun.sleep(25);
    for (const socket of this.connections) {
      socket.data.closed = true;
      socket.end();
    }
    this.#server?.stop(true);
    // Every read taken so far is decoded and handed to the writer before the caller closes it.
    await Promise.race([this.#pool.whenIdle(), Bun.sleep(Math.max(0, deadline - performance.now()))]);
    this.#pool.terminate();
  }
}
