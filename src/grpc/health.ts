// The standard health service, grpc.health.v1.Health: SERVING while the writer is healthy (the log
// file takes writes), NOT_SERVING while writes keep failing and from the moment the server stops.
// Known service names: "" (the whole server) and each served service. Check on an unknown name is
// NOT_FOUND; Watch on one reports SERVICE_UNKNOWN and stays open, as the protocol specifies.
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { grpcError } from "./status.ts";

export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";

/** HealthCheckResponse.ServingStatus */
export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

interface HealthCheckRequest {
  service: string;
}
interface HealthCheckResponse {
  status: ServingStatus;
}
type WatchCall = grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;

export class HealthService {
  readonly #services: ReadonlySet<string>;
  /** Open Watch calls → whether they watch a known service (only those hear changes). */
  readonly #watchers = new Map<WatchCall, boolean>();
  #status: ServingStatus;
  #stopped = false;

  /** `services`: the names reported on besides "" (the whole server). */
  constructor(services: readonly string[], healthy: boolean) {
    this.#services = new Set(["", ...services]);
    this.#status = healthy ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  get status(): ServingStatus {
    return this.#status;
  }

  /** The writer's health changed. */
  setHealthy(healthy: boolean): void {
    if (this.#stopped) return;
    this.#set(healthy ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  readonly handlers: grpc.UntypedServiceImplementation = {
    Check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
      const name = call.request.service ?? "";
      if (!this.#services.has(name)) {
        callback(grpcError(status.NOT_FOUND, `unknown service "${name}"; known: ${[...this.#services].map((s) => `"${s}"`).join(", ")}`));
        return;
      }
      callback(null, { status: this.#status });
    },
    Watch: (call: WatchCall) => {
      const name = call.request.service ?? "";
      const known = this.#services.has(name);
      // An unknown service stays open, as the protocol says (it might appear later); ended when the server stops.
      call.write({ status: known ? this.#status : ServingStatus.SERVICE_UNKNOWN });
      if (this.#stopped) {
        call.end();
        return;
      }
      this.#watchers.set(call, known);
      const forget = () => this.#watchers.delete(call);
      call.on("cancelled", forget);
      call.on("close", forget);
      call.on("error", forget);
    },
  };

  /** Server stopping: every watcher hears NOT_SERVING, then its stream ends (so connections can close). */
  stop(): void {
    if (this.#stopped) return;
    this.#set(ServingStatus.NOT_SERVING);
    this.#stopped = true;
    for (const call of this.#watchers.keys()) call.end();
    this.#watchers.clear();
  }

  #set(next: ServingStatus): void {
    if (next === this.#status) return;
    this.#status = next;
    for (const [call, known] of this.#watchers) if (known) call.write({ status: next });
  }
}
