/**
 * `vmaudit scan`, run: typed options to `scanSystem`, the report to a
 * renderer (text, JSON, Prometheus), and `--prometheus FILE` written
 * atomically.
 */
import { stdoutPalette, stdoutWidth } from "../cli/output.ts";
import { EXIT_OK, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic_write.ts";
import { journalWarning, runDir } from "../limit/journal.ts";
import { renderPrometheus } from "../scan/prometheus.ts";
import { renderScanJson, renderScanText } from "../scan/render.ts";
import type { ScanSystemInput } from "../scan/scan_system.ts";
import { scanInputOf, scanSystem } from "../scan/scan_system.ts";
import type { ScanFormat, ScanRun } from "./scan.ts";

export interface ScanRequest extends ScanSystemInput {
  /** Undefined when neither --format nor --json was given. */
  format: ScanFormat | undefined;
  prometheusFile: string | undefined;
}

/**
 * The typed options as a scan request: --json is --format json, and the
 * invoking user's name is hidden in the report.
 *
 * @example
 * scanRequest(parseCommandArgs(scanCommand, ["--top", "5"]).options, {}).top; // 5
 */
export function scanRequest(
  options: ScanRun["options"],
  env: Record<string, string | undefined>,
): ScanRequest {
  return {
    ...scanInputOf(options, env),
    format: formatOf(options),
    prometheusFile: options.prometheus,
  };
}

/** --format, with --json as a synonym of --format json; undefined when neither is given. */
function formatOf(options: ScanRun["options"]): ScanFormat | undefined {
  const f = options.format;
  if (!options.json) return f;
  if (f !== undefined && f !== "json")
    throw new UsageError(`Cannot use --json with --format "${f}": pick one`, "scan");
  return "json";
}

export function run({ options, io }: ScanRun): number {
  const request = scanRequest(options, io.env);
  const warning = journalWarning(runDir(io.env));
  const report = scanSystem({ ...request, warnings: warning ? [warning] : [] });
  if (request.prometheusFile !== undefined) {
    // 0644: node_exporter usually runs as its own user and must read it.
    writeFileAtomic(request.prometheusFile, renderPrometheus(report));
    if (request.format === undefined) return EXIT_OK;
  }
  const format = request.format ?? "text";
  io.stdout(
    format === "json"
      ? renderScanJson(report)
      : format === "prometheus"
        ? renderPrometheus(report)
        : renderScanText(report, stdoutPalette(io, options), stdoutWidth(io)),
  );
  return EXIT_OK;
}
