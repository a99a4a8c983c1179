// HealthService follows the writer's health; Watch hears every change and ends when the server stops.
import { expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { HealthService, ServingStatus } from "../../src/grpc/health.ts";

class FakeWatch extends EventEmitter {
  written: number[] = [];
  ended = false;
  constructor(readonly request: { service: string }) {
    super();
  }
  write(response: { status: number }) {
    this.written.push(response.status);
    return true;
  }
  end() {
    this.ended = true;
  }
}

function check(health: HealthService, service: string) {
  let answer: unknown;
  const callback = (error: unknown, value: unknown) => (answer = error ?? value);
  (health.handlers.Check as (call: unknown, callback: unknown) => void)({ request: { service } }, callback);
  return answer;
}

test("SERVING while the writer is healthy, NOT_SERVING while it is not; watchers hear each change", () => {
  const health = new HealthService(["logservice.LogService"], true);
  const watch = new FakeWatch({ service: "logservice.LogService" });
  const unknown = new FakeWatch({ service: "other" });
  (health.handlers.Watch as (call: unknown) => void)(watch);
  (health.handlers.Watch as (call: unknown) => void)(unknown);
  expect(check(health, "")).toEqual({ status: ServingStatus.SERVING });

  health.setHealthy(false);
  expect(check(health, "logservice.LogService")).toEqual({ status: ServingStatus.NOT_SERVING });
  health.setHealthy(false); // no change, no message
  health.setHealthy(true);
  expect(watch.written).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
  expect(unknown.written).toEqual([ServingStatus.SERVICE_UNKNOWN]);

  health.stop();
  expect(watch.written.at(-1)).toBe(ServingStatus.NOT_SERVING);
  expect(watch.ended && unknown.ended).toBe(true);
  health.setHealthy(true); // a write recovering during shutdown does not bring it back
  expect(check(health, "")).toEqual({ status: ServingStatus.NOT_SERVING });
});
