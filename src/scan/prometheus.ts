/**
 * The Prometheus text exposition format of a {@link ScanReport}, for
 * node_exporter's textfile collector (or any scraper). Pure: returns a string.
 *
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/ —
 * `# HELP` and `# TYPE` before each family, no timestamps (the textfile
 * collector refuses them), label values escaped as below.
 *
 * Names pass `promtool check metrics`, whose lint reserves the `_count`,
 * `_sum` and `_total` suffixes for histograms, summaries and counters. So the
 * limit is `vmaudit_map_count_limit` (vm.max_map_count caps mm->map_count),
 * not `vmaudit_max_map_count`, and the sum over processes is
 * `vmaudit_system_vmas`, not `vmaudit_vmas_total`.
 *
 * The report's host name and kernel release are not exported: node_exporter's
 * `node_uname_info` has them, and the scrape's `instance` names the host.
 */
import type { ScanReport } from "./report.ts";

/**
 * Escape a label value: backslash, double quote and line feed are the only
 * characters the text format escapes; everything else (any UTF-8) is literal.
 *
 * @example
 * escapeLabelValue('a"b\\c\nd'); // 'a\\"b\\\\c\\nd'
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\\" ? "\\\\" : c === '"' ? '\\"' : "\\n"));
}

/** HELP text escapes only backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\\" ? "\\\\" : "\\n"));
}

/** A sample value: integers as they are, others with up to 6 decimals. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
}

export type Labels = Record<string, string>;

/** The metric types vmaudit exports. */
export type MetricType = "gauge" | "counter";

function sample(name: string, labels: Labels, value: number): string {
  const entries = Object.entries(labels);
  const l = entries.length
    ? `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`
    : "";
  return `${name}${l} ${formatValue(value)}`;
}

/**
 * One metric family: `# HELP`, `# TYPE` and its samples; nothing when it
 * has no sample (a value that is unknown is left out, not made up).
 *
 * @example
 * metricFamily("vmaudit_exporter_scans_total", "counter", "Scans.", [{ labels: {}, value: 3 }]);
 * // ["# HELP vmaudit_exporter_scans_total Scans.", "# TYPE vmaudit_exporter_scans_total counter", "vmaudit_exporter_scans_total 3"]
 */
export function metricFamily(
  name: string,
  type: MetricType,
  help: string,
  samples: readonly { labels: Labels; value: number }[],
): string[] {
  if (samples.length === 0) return [];
  return [
    `# HELP ${name} ${escapeHelp(help)}`,
    `# TYPE ${name} ${type}`,
    ...samples.map((s) => sample(name, s.labels, s.value)),
  ];
}

const family = (name: string, help: string, samples: { labels: Labels; value: number }[]) =>
  metricFamily(name, "gauge", help, samples);

/**
 * Render the report as Prometheus metrics. Cardinality is bounded: process
 * series are the report's top processes (`--top`), application series the
 * first `--top` applications by max VMAs. Metrics whose value is unknown
 * (an unreadable limit, slabinfo without root) are left out rather than
 * exported as a made-up number.
 *
 * @example
 * renderPrometheus(report).includes("vmaudit_map_count_limit 65530"); // true
 */
export function renderPrometheus(report: ScanReport): string {
  const limit = report.maxMapCount;
  const top = report.topProcesses[0];
  const apps = report.applications.slice(0, report.settings.top);
  const one = (value: number | null | undefined) =>
    value === null || value === undefined ? [] : [{ labels: {}, value }];
  const lines = [
    ...family(
      "vmaudit_map_count_limit",
      "The live vm.max_map_count: the most VMAs any one process may have.",
      one(limit),
    ),
    ...family(
      "vmaudit_process_vmas",
      "VMAs of each of the top processes by VMA count (bounded by --top).",
      report.topProcesses.map((p) => ({
        labels: { pid: String(p.pid), app: p.app },
        value: p.vmas,
      })),
    ),
    ...family(
      "vmaudit_app_vmas_max",
      "The most VMAs of any one process of the application.",
      apps.map((a) => ({ labels: { app: a.name }, value: a.max })),
    ),
    ...family(
      "vmaudit_app_instances",
      "Processes running the application.",
      apps.map((a) => ({ labels: { app: a.name }, value: a.instances })),
    ),
    ...family(
      "vmaudit_system_vmas",
      "VMAs of all scanned processes together.",
      one(report.totalVmas),
    ),
    ...family(
      "vmaudit_peak_usage_ratio",
      "VMAs of the busiest process divided by vm.max_map_count (1 means at the limit).",
      one(top && limit ? top.vmas / limit : undefined),
    ),
    ...family(
      "vmaudit_scan_duration_seconds",
      "Wall time of the /proc walk.",
      one(report.durationMs / 1000),
    ),
    ...family(
      "vmaudit_processes_unreadable",
      "Processes whose maps could not be read (permission denied).",
      one(report.coverage.unreadable),
    ),
    ...family(
      "vmaudit_kernel_vma_slab_bytes",
      "Kernel memory held by the vm_area_struct slab (active objects x object size).",
      one(report.kernel.vmaSlab?.activeBytes),
    ),
    ...family(
      "vmaudit_recommended_map_count_limit",
      "The vm.max_map_count vmaudit recommends from the peak and the headroom.",
      one(report.recommendedLimit),
    ),
  ];
  return `${lines.join("\n")}\n`;
}
