// Helpers for tests of the metrics HTTP server: a free port to pass as --metrics_port (0 there means
// "no metrics server", so tests cannot let the OS choose), and a parser for the Prometheus text
// format that also checks the page is well formed.
import { expect } from "bun:test";

/** A port that was free a moment ago: bind port 0, read the port, release it. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

export interface Family {
  type: string;
  help: string;
  /** Sample key (`name` or `name{label="value"}`) → value. */
  samples: Map<string, number>;
}

/** The families of a /metrics page by name; fails the test if the page breaks the format. */
export function parseExposition(text: string): Map<string, Family> {
  expect(text.endsWith("\n")).toBe(true);
  const families = new Map<string, Family>();
  let current: { name: string; help?: string; type?: string } | null = null;
  for (const line of text.slice(0, -1).split("\n")) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (help) {
      expect(families.has(help[1])).toBe(false);
      current = { name: help[1], help: help[2] };
      continue;
    }
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line);
    if (type) {
      expect(current?.name).toBe(type[1]);
      current!.type = type[2];
      families.set(type[1], { type: type[2], help: current!.help ?? "", samples: new Map() });
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"\})? (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|[+-]Inf)$/.exec(line);
    if (!sample) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    const family = families.get(sample[1]);
    if (!family || current?.name !== sample[1]) throw new Error(`sample ${sample[1]} outside its family (no HELP/TYPE just before it)`);
    const key = sample[1] + (sample[2] ?? "");
    expect(family.samples.has(key)).toBe(false);
    family.samples.set(key, Number(sample[3]));
  }
  return families;
}

/** Reads `/metrics` and returns a lookup of sample values: value("name") or value('name{label="x"}'). */
export async function scrape(port: number): Promise<{ families: Map<string, Family>; value: (key: string) => number | undefined; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await response.text();
  const families = parseExposition(text);
  const value = (key: string) => {
    const name = key.replace(/\{.*$/, "");
    return families.get(name)?.samples.get(key);
  };
  return { families, value, text };
}

/** Polls /metrics until `predicate` holds (bounded by `timeoutMs`); returns the last scrape. */
export async function scrapeUntil(
  port: number,
  predicate: (value: (key: string) => number | undefined) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<Awaited<ReturnType<typeof scrape>>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const page = await scrape(port);
    if (predicate(page.value)) return page;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; last page:\n${page.text}`);
    await Bun.sleep(25);
  }
}
