/**
 * What GET /metrics returns: the scan's own metrics (scan/prometheus.ts,
 * the same text as `scan --format prometheus`) followed by the exporter's:
 * the peak of each application since the exporter started, and its scan
 * counters. Pure.
 */
import { metricFamily, renderPrometheus } from "../scan/prometheus.ts";
import type { ScanReport } from "../scan/report.ts";

/** The exposition format's content type (text format 0.0.4). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface ExporterCounters {
  /** Scans started since the exporter started, failed ones included. */
  scans: number;
  /** Scans that failed. */
  errors: number;
}

export interface AppPeak {
  app: string;
  vmas: number;
}

/**
 * The exporter's metrics after a successful scan.
 *
 * @example
 * renderExporterMetrics(report, [{ app: "java", vmas: 54321 }], { scans: 3, errors: 0 });
 * // "...vmaudit_app_vmas_peak{app=\"java\"} 54321\n...vmaudit_exporter_scans_total 3\n..."
 */
export function renderExporterMetrics(
  report: ScanReport,
  peaks: readonly AppPeak[],
  counters: ExporterCounters,
): string {
  const lines = [
    ...metricFamily(
      "vmaudit_app_vmas_peak",
      "gauge",
      "The most VMAs of any one process of the application since the exporter started (the first --top applications by it).",
      peaks.map((p) => ({ labels: { app: p.app }, value: p.vmas })),
    ),
    ...metricFamily(
      "vmaudit_exporter_scans_total",
      "counter",
      "Scans of every process since the exporter started, failed ones included.",
      [{ labels: {}, value: counters.scans }],
    ),
    ...metricFamily(
      "vmaudit_exporter_scan_errors_total",
      "counter",
      "Scans that failed since the exporter started (each answered with HTTP 500).",
      [{ labels: {}, value: counters.errors }],
    ),
  ];
  return `${renderPrometheus(report)}${lines.join("\n")}\n`;
}
