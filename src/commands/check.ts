/**
 * `vmaudit check`: a monitoring plugin (Nagios, Icinga, Sensu, ...). The
 * command's metadata and typed options; `check.run.ts` does the work.
 */

import { CHECK_EXIT, DEFAULT_CRIT_PERCENT, DEFAULT_WARN_PERCENT } from "../check/evaluate.ts";
import type { ParseContext } from "../cli/command.ts";
import { type CommandInput, defineCommand } from "../cli/command.ts";
import { JSON_OPTION, PROCFS_OPTION } from "../cli/common_options.ts";
import { decimal, flag, int } from "../cli/options.ts";
import { UsageError } from "../errors.ts";

function percent(value: number, raw: string, at: ParseContext): void {
  if (value <= 0 || value > 100)
    throw new UsageError(
      `Cannot use ${at.name} "${raw}": expected a percent above 0 and at most 100`,
      at.command,
    );
}

const options = {
  warn: decimal({
    placeholder: "P",
    description: "WARNING above this percent of vm.max_map_count",
    default: DEFAULT_WARN_PERCENT,
    check: percent,
  }),
  crit: decimal({
    placeholder: "P",
    description: "CRITICAL above this percent of vm.max_map_count",
    default: DEFAULT_CRIT_PERCENT,
    check: percent,
  }),
  min: int({
    placeholder: "N",
    description:
      "CRITICAL when vm.max_map_count is below N (a readiness check: 262144 for Elasticsearch)",
  }),
  "allow-partial": flag(
    "Judge the processes that could be read even when others could not (default: UNKNOWN)",
  ),
  ...JSON_OPTION,
  ...PROCFS_OPTION,
};

export type CheckRun = CommandInput<typeof options>;

export const checkCommand = defineCommand({
  name: "check",
  summary: "Monitoring plugin: OK/WARNING/CRITICAL by the busiest process's share of the limit",
  description: `
Finds the process with the most VMAs and compares it with vm.max_map_count.
Prints one line in the monitoring-plugins format, with perfdata
(max_vmas=VMAS;WARN;CRIT;0;LIMIT), for Nagios, Icinga, Sensu and the like.
WARNING when the process is above --warn percent of the limit, CRITICAL above
--crit percent.

--min N also checks the limit itself: CRITICAL when vm.max_map_count is
below N (a readiness check for a node that must run Elasticsearch, say),
with perfdata max_map_count=LIMIT;;N:. The worse of the two states wins; a
limit below N is CRITICAL even when some processes could not be read.

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (proc or the limit cannot
be read, some process could not be read, or a bad flag: a usage error exits 3,
not 2, because 2 means CRITICAL to a monitoring system). Every outcome prints
one status line on stdout (JSON with --json).

Run as root: a check that cannot read every process is UNKNOWN, since an OK
from the processes it happens to see would be a false OK. --allow-partial
judges the readable ones instead and says how many were left out.`,
  options,
  examples: [
    "sudo vmaudit check",
    "sudo vmaudit check --warn 70 --crit 90",
    "sudo vmaudit check --min 262144",
    "vmaudit check --allow-partial",
  ],
  exitCodes: [
    { code: CHECK_EXIT.OK, meaning: "OK" },
    { code: CHECK_EXIT.WARNING, meaning: "WARNING: the busiest process is above --warn" },
    {
      code: CHECK_EXIT.CRITICAL,
      meaning: "CRITICAL: the busiest process is above --crit, or the limit is below --min",
    },
    {
      code: CHECK_EXIT.UNKNOWN,
      meaning:
        "UNKNOWN: proc or the limit cannot be read, a process could not be read, or a usage error",
    },
  ],
  usageExitCode: CHECK_EXIT.UNKNOWN,
  load: () => import("./check.run.ts"),
});
