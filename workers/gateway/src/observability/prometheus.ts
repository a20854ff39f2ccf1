/**
 * Prometheus text exposition format (version 0.0.4), pure: metric families
 * in, text out. One `# HELP` and `# TYPE` line per family, label values
 * escaped (`\\`, `"`, newline), histograms as cumulative `_bucket{le=...}`
 * series ending with `le="+Inf"`, then `_sum` and `_count`.
 */

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label name → value. */
export type Labels = Readonly<Record<string, string>>;

/** One counter or gauge series. */
export interface Sample {
  labels: Labels;
  value: number;
}

/** One histogram series: per-bucket counts on `bounds` (not cumulative; one more for `+Inf`), sum and count. */
export interface HistogramSample {
  labels: Labels;
  bounds: readonly number[];
  counts: readonly number[];
  sum: number;
  count: number;
}

/** A metric family. */
export type MetricFamily =
  | { name: string; help: string; type: "counter" | "gauge"; samples: readonly Sample[] }
  | { name: string; help: string; type: "histogram"; samples: readonly HistogramSample[] };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Formats a sample value (`+Inf`, `-Inf`, `NaN` as Prometheus spells them). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatLabels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  for (const [name] of pairs) {
    if (!LABEL_NAME.test(name) || name.startsWith("__")) throw new Error(`Invalid Prometheus label name: ${name}`);
  }
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

function renderHistogram(name: string, sample: HistogramSample, lines: string[]): void {
  if (sample.counts.length !== sample.bounds.length + 1)
    throw new Error(`Histogram ${name}: ${sample.bounds.length} bounds need ${sample.bounds.length + 1} counts`);
  let cumulative = 0;
  sample.bounds.forEach((bound, i) => {
    cumulative += sample.counts[i] ?? 0;
    lines.push(`${name}_bucket${formatLabels(sample.labels, ["le", formatValue(bound)])} ${cumulative}`);
  });
  cumulative += sample.counts[sample.bounds.length] ?? 0;
  lines.push(`${name}_bucket${formatLabels(sample.labels, ["le", "+Inf"])} ${cumulative}`);
  lines.push(`${name}_sum${formatLabels(sample.labels)} ${formatValue(sample.sum)}`);
  lines.push(`${name}_count${formatLabels(sample.labels)} ${sample.count}`);
}

/** Renders families in the text format (ends with a newline). Throws on an invalid metric or label name. */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`Invalid Prometheus metric name: ${family.name}`);
    if (seen.has(family.name)) throw new Error(`Duplicate metric family: ${family.name}`);
    seen.add(family.name);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === "histogram") {
      for (const sample of family.samples) renderHistogram(family.name, sample, lines);
    } else {
      for (const sample of family.samples)
        lines.push(`${family.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
