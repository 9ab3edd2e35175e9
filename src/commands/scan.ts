/**
 * `vmaudit scan`: count every process's VMAs and recommend a limit.
 */
import type { Command, OptionValues } from "../cli/command.ts";
import {
  JSON_OPTION,
  PROCFS_OPTION,
  parseRecommendFlags,
  procfsFlag,
  RECOMMEND_OPTIONS,
  stdoutPalette,
  stdoutWidth,
} from "../cli/common_flags.ts";
import { stringOption } from "../cli/parse.ts";
import { parsePositiveInt } from "../cli/values.ts";
import { EXIT_OK, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic_write.ts";
import { journalWarning, runDir } from "../limit/journal.ts";
import { invokingUser } from "../proc/users.ts";
import { renderPrometheus } from "../scan/prometheus.ts";
import { renderScanJson, renderScanText } from "../scan/render.ts";
import type { ScanSystemInput } from "../scan/scan_system.ts";
import { scanSystem } from "../scan/scan_system.ts";

export const DEFAULT_TOP = 20;

/**
 * argv values to scan options.
 *
 * @example
 * parseScanOptions({ top: "5" }, {}).top; // 5
 */
export function parseScanOptions(
  values: OptionValues,
  env: Record<string, string | undefined>,
): ScanSystemInput & { format: ScanFormat | undefined; prometheusFile: string | undefined } {
  const t = stringOption(values, "top");
  const prometheusFile = stringOption(values, "prometheus");
  if (prometheusFile === "")
    throw new UsageError(`Cannot use --prometheus "": expected a file path`, "scan");
  return {
    procfs: procfsFlag(values, "scan"),
    top: t === undefined ? DEFAULT_TOP : parsePositiveInt("--top", t, { command: "scan" }),
    ...parseRecommendFlags(values, "scan"),
    anonymizeUser: invokingUser(env),
    format: parseFormat(values),
    prometheusFile,
  };
}

export type ScanFormat = "text" | "json" | "prometheus";
const FORMATS: readonly ScanFormat[] = ["text", "json", "prometheus"];

/** --format, with --json as a synonym of --format json; undefined when neither is given. */
function parseFormat(values: OptionValues): ScanFormat | undefined {
  const f = stringOption(values, "format");
  if (f !== undefined && !FORMATS.includes(f as ScanFormat)) {
    throw new UsageError(
      `Cannot use --format "${f}": expected one of ${FORMATS.join(", ")}`,
      "scan",
    );
  }
  if (values.json === true) {
    if (f !== undefined && f !== "json")
      throw new UsageError(`Cannot use --json with --format "${f}": pick one`, "scan");
    return "json";
  }
  return f as ScanFormat | undefined;
}

export const scanCommand: Command = {
  name: "scan",
  summary: "Count the VMAs of every process and recommend vm.max_map_count",
  description: `
Reads /proc/<pid>/maps of every process and reports the processes with the most
VMAs, statistics per application, the total, the kernel's vm_area_struct slab,
and a recommended limit with its headroom. Run as root to see every process.

vm.max_map_count limits each process on its own. The recommendation is the
largest count of any one process times --headroom, rounded up to --round, and
never below the kernel default of 65530.`,
  options: {
    top: {
      type: "string",
      value: "N",
      description: "How many processes to list",
      default: String(DEFAULT_TOP),
    },
    ...RECOMMEND_OPTIONS,
    format: {
      type: "string",
      value: "FORMAT",
      description: "Output format: text, json or prometheus",
      default: "text",
      choices: FORMATS,
    },
    ...JSON_OPTION,
    prometheus: {
      type: "string",
      value: "FILE",
      description:
        "Write Prometheus metrics atomically to FILE (a textfile collector *.prom); prints nothing else unless --format or --json is given",
    },
    ...PROCFS_OPTION,
  },
  examples: [
    "sudo vmaudit scan",
    "sudo vmaudit scan --vma 80000 --headroom 1.25",
    "vmaudit scan --json | jq .recommendations",
    "sudo vmaudit scan --prometheus /var/lib/prometheus/node-exporter/vmaudit.prom",
  ],
  run({ values, io }) {
    const opts = parseScanOptions(values, io.env);
    const warning = journalWarning(runDir(io.env));
    const report = scanSystem({ ...opts, warnings: warning ? [warning] : [] });
    if (opts.prometheusFile !== undefined) {
      // 0644: node_exporter usually runs as its own user and must read it.
      writeFileAtomic(opts.prometheusFile, renderPrometheus(report));
      if (opts.format === undefined) return EXIT_OK;
    }
    const format = opts.format ?? "text";
    io.stdout(
      format === "json"
        ? renderScanJson(report)
        : format === "prometheus"
          ? renderPrometheus(report)
          : renderScanText(report, stdoutPalette(io, values), stdoutWidth(io)),
    );
    return EXIT_OK;
  },
};
