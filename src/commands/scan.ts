/**
 * `vmaudit scan`: count every process's VMAs and recommend a limit.
 */
import type { Command, OptionValues } from "../cli/command.ts";
import {
  invokingUser,
  JSON_OPTION,
  PROCFS_OPTION,
  parseRecommendFlags,
  procfsFlag,
  RECOMMEND_OPTIONS,
  stdoutPalette,
} from "../cli/common_flags.ts";
import { stringOption } from "../cli/parse.ts";
import { parsePositiveInt } from "../cli/values.ts";
import { EXIT_OK } from "../errors.ts";
import { journalWarning, runDir } from "../limit/journal.ts";
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
): ScanSystemInput & { json: boolean } {
  const t = stringOption(values, "top");
  return {
    procfs: procfsFlag(values, "scan"),
    top: t === undefined ? DEFAULT_TOP : parsePositiveInt("--top", t, { command: "scan" }),
    ...parseRecommendFlags(values, "scan"),
    anonymiseUser: invokingUser(env),
    json: values.json === true,
  };
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
    ...JSON_OPTION,
    ...PROCFS_OPTION,
  },
  examples: [
    "sudo vmaudit scan",
    "sudo vmaudit scan --vma 80000 --headroom 1.25",
    "vmaudit scan --json | jq .recommendations",
  ],
  run({ values, io }) {
    const opts = parseScanOptions(values, io.env);
    const warning = journalWarning(runDir(io.env));
    const report = scanSystem({ ...opts, warnings: warning ? [warning] : [] });
    io.stdout(
      opts.json ? renderScanJson(report) : renderScanText(report, stdoutPalette(io, values)),
    );
    return EXIT_OK;
  },
};
