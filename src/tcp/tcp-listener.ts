// The TCP (Cap'n Proto) ingest server: Bun.listen with one handler object for every socket and the
// per-client state in socket.data. Reads are handed to the frame parser as they arrive.
import type { Socket, TCPSocketListener } from "bun";
import type { OpsLog } from "../ops-log.ts";
import type { RecordSink } from "../pipeline/record-sink.ts";
import { Connection } from "./connection.ts";

export interface TcpListenerOptions {
  host: string;
  port: number;
  sink: RecordSink;
  ops: OpsLog;
}

export class TcpListener {
  #server: TCPSocketListener<Connection> | null = null;
  readonly connections = new Set<Socket<Connection>>();
  /** Frames rejected, by reason (for /metrics). */
  readonly rejected = new Map<string, number>();
  /** Sockets not being read because the writer's backlog is at its bound. */
  readonly paused = new Set<Socket<Connection>>();

  constructor(readonly options: TcpListenerOptions) {}

  get port(): number {
    return this.#server?.port ?? 0;
  }

  start(): void {
    const { sink, ops } = this.options;
    const connections = this.connections;
    const listener = this;
    const writer = sink.writer;
    writer.onResume(() => listener.#resumeAll());
    this.#server = Bun.listen<Connection>({
      hostname: this.options.host,
      port: this.options.port,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          socket.data = new Connection(`${socket.remoteAddress}:${socket.remotePort}`, sink);
          connections.add(socket);
        },
        data(socket, chunk) {
          const connection = socket.data;
          if (connection.closed) return;
          connection.lastActivity = performance.now();
          try {
            connection.parser.push(chunk);
          } catch (error) {
            listener.#reject(socket, error);
            return;
          }
          // What was read is always accepted in full; at the bound, stop reading until the backlog drains.
          if (writer.saturated) listener.#pause(socket);
        },
        close(socket) {
          connections.delete(socket);
          listener.paused.delete(socket);
        },
        error(socket, error) {
          ops.warn(`connection from ${socket.data?.describe() ?? "unknown client"} failed: ${error.message}`);
        },
      },
    });
  }

  #pause(socket: Socket<Connection>): void {
    if (this.paused.size === 0) {
      this.options.ops.warn(`write backlog reached --max_pending_bytes; pausing reads until it drains`);
    }
    this.paused.add(socket);
    socket.pause();
  }

  #resumeAll(): void {
    if (this.paused.size === 0) return;
    this.options.ops.info(`write backlog drained; resuming reads on ${this.paused.size} connections`);
    for (const socket of this.paused) socket.resume();
    this.paused.clear();
  }

  /** Ends a connection that sent a bad frame; what it sent before that frame is already accepted. */
  #reject(socket: Socket<Connection>, error: unknown): void {
    const connection = socket.data;
    const { reason, detail } = Connection.describeError(error);
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
    this.options.ops.warn(
      `closing connection from ${connection.describe()}: frame #${connection.parser.frames} rejected (${reason}): ${detail}; ` +
        `${connection.records} earlier records from it are kept`,
    );
    connection.closed = true;
    // A hard close: a broken or hostile client gets nothing more read from it.
    socket.terminate();
  }

  /** Stops accepting; existing connections stay open until `closeConnections`. */
  stopAccepting(): void {
    this.#server?.stop(false);
  }

  closeConnections(): void {
    for (const socket of this.connections) socket.end();
    this.#server?.stop(true);
  }
}
