// What the listener knows about one TCP client: who it is (address, and the handshake identity once a
// decode worker has seen it), how many of its records were accepted, and its activity times.
let nextId = 1;

export class Connection {
  /** Key of this connection in the decode workers. */
  readonly id = nextId++;
  /** "fromName@fromHost" from the handshake, if the client sent one. */
  identity: string | null = null;
  records = 0;
  /** Set once the server decided to close it (bad frame, timeout, shutdown); later reads are ignored. */
  closed = false;
  /** The socket is gone (either side closed it); answers to reads already submitted may still come. */
  ended = false;
  readonly openedAt = performance.now();
  /** Last time any bytes arrived (heartbeats count), for idle timeouts. */
  lastActivity = this.openedAt;
  /** A complete frame (a heartbeat counts) has arrived: the first-frame deadline no longer applies. */
  sawFirstFrame = false;
  /** Reads handed to a decode worker and not answered yet. */
  pendingReads = 0;

  constructor(readonly peer: string) {}

  /** How the client is named in messages: its address, plus its handshake identity when known. */
  describe(): string {
    return this.identity ? `${this.identity} (${this.peer})` : this.peer;
  }
}
