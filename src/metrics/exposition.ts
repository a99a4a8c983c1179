// Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
// per metric family one `# HELP` line, one `# TYPE` line, then its samples, each `name{labels} value`.
// Built as a string when /metrics is scraped; nothing here runs per record.

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge";

/** Metric and label names the format allows. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class Exposition {
  #lines: string[] = [];
  #names = new Set<string>();

  /** A family with one unlabelled sample. */
  single(type: MetricType, name: string, help: string, value: number): this {
    this.#header(type, name, help);
    this.#lines.push(`${name} ${formatValue(value)}`);
    return this;
  }

  /** A family with one sample per value of `label`, in the order given. */
  labelled(type: MetricType, name: string, help: string, label: string, samples: Iterable<readonly [string, number]>): this {
    if (!LABEL_NAME.test(label) || label.startsWith("__")) throw new Error(`invalid label name "${label}"`);
    this.#header(type, name, help);
    for (const [labelValue, value] of samples) {
      this.#lines.push(`${name}{${label}="${escapeLabelValue(labelValue)}"} ${formatValue(value)}`);
    }
    return this;
  }

  /** The page: every family, ending in a newline as the format requires. */
  text(): string {
    return this.#lines.length === 0 ? "" : `${this.#lines.join("\n")}\n`;
  }

  #header(type: MetricType, name: string, help: string): void {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    if (this.#names.has(name)) throw new Error(`metric ${name} is exposed twice`);
    this.#names.add(name);
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }
}

/** Integers as plain digits; the format's spellings for the special values. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** In HELP text, backslash and line feed are escaped. */
export function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** In label values, backslash, double quote and line feed are escaped. */
export function escapeLabelValue(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}
