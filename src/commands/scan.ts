/**
 * `vmaudit scan`: count every process's VMAs and recommend a limit. The
 * command's metadata and typed options; `scan.run.ts` does the work and is
 * loaded only when the command runs.
 */
import { COMMON_EXIT_CODES, type CommandInput, defineCommand } from "../cli/command.ts";
import { JSON_OPTION, PROCFS_OPTION, RECOMMEND_OPTIONS } from "../cli/common_options.ts";
import { choice, int, path } from "../cli/options.ts";

export const DEFAULT_TOP = 20;
export const SCAN_FORMATS = ["text", "json", "prometheus"] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];

const options = {
  top: int({ placeholder: "N", description: "How many processes to list", default: DEFAULT_TOP }),
  ...RECOMMEND_OPTIONS,
  format: choice({
    placeholder: "FORMAT",
    description: "Output format: text, json or prometheus",
    choices: SCAN_FORMATS,
    // Absent is not "text": with --prometheus FILE it means print nothing.
    defaultText: "text",
  }),
  ...JSON_OPTION,
  prometheus: path({
    placeholder: "FILE",
    description:
      "Write Prometheus metrics atomically to FILE (a textfile collector *.prom); prints nothing else unless --format or --json is given",
    expected: "a file path",
  }),
  ...PROCFS_OPTION,
};

export type ScanRun = CommandInput<typeof options>;

export const scanCommand = defineCommand({
  name: "scan",
  summary: "Count the VMAs of every process and recommend vm.max_map_count",
  description: `
Reads /proc/<pid>/maps of every process and reports the processes with the most
VMAs, statistics per application, the total, the kernel's vm_area_struct slab,
and a recommended limit with its headroom. Run as root to see every process.

vm.max_map_count limits each process on its own. The recommendation is the
largest count of any one process times --headroom, rounded up to --round, and
never below the kernel default of 65530.`,
  options,
  examples: [
    "sudo vmaudit scan",
    "sudo vmaudit scan --vma 80000 --headroom 1.25",
    "vmaudit scan --json | jq .recommendations",
    "sudo vmaudit scan --prometheus /var/lib/prometheus/node-exporter/vmaudit.prom",
  ],
  exitCodes: [
    COMMON_EXIT_CODES.ok,
    {
      code: 1,
      meaning: "the proc root cannot be scanned, or a --peaks or --prometheus file fails",
    },
    COMMON_EXIT_CODES.usage,
  ],
  load: () => import("./scan.run.ts"),
});
