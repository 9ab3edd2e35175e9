/**
 * `vmaudit check`: a monitoring plugin (Nagios, Icinga, Sensu, ...). Prints
 * one status line with perfdata and exits 0 OK, 1 WARNING, 2 CRITICAL or
 * 3 UNKNOWN.
 */

import {
  CHECK_EXIT,
  type CheckResult,
  DEFAULT_CRIT_PERCENT,
  DEFAULT_WARN_PERCENT,
  evaluateCheck,
  unknownCheck,
} from "../check/evaluate.ts";
import type { Command, OptionValues } from "../cli/command.ts";
import { JSON_OPTION, PROCFS_OPTION, procfsFlag } from "../cli/common_flags.ts";
import { stringOption } from "../cli/parse.ts";
import { parseDecimal } from "../cli/values.ts";
import { DEFAULT_HEADROOM, DEFAULT_ROUND } from "../core/recommend.ts";
import { ExitError, UsageError } from "../errors.ts";
import { scanSystem } from "../scan/scan_system.ts";

export interface CheckOptions {
  procfs: string;
  warn: number;
  crit: number;
  json: boolean;
}

function percentFlag(values: OptionValues, name: string, fallback: number): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const p = parseDecimal(`--${name}`, raw, "check");
  if (p <= 0 || p > 100)
    throw new UsageError(
      `Cannot use --${name} "${raw}": expected a percent above 0 and at most 100`,
      "check",
    );
  return p;
}

/**
 * argv values to check options.
 *
 * @example
 * parseCheckOptions({ warn: "70" }).warn; // 70
 */
export function parseCheckOptions(values: OptionValues): CheckOptions {
  const warn = percentFlag(values, "warn", DEFAULT_WARN_PERCENT);
  const crit = percentFlag(values, "crit", DEFAULT_CRIT_PERCENT);
  if (warn > crit)
    throw new UsageError(
      `Cannot use --warn ${warn} above --crit ${crit}: the warning must come first`,
      "check",
    );
  return { procfs: procfsFlag(values, "check"), warn, crit, json: values.json === true };
}

/** Scan and evaluate. Any failure to read becomes UNKNOWN, never an exception. */
export function runCheck(opts: CheckOptions): CheckResult {
  let report: ReturnType<typeof scanSystem>;
  try {
    report = scanSystem({
      procfs: opts.procfs,
      top: 1,
      headroom: DEFAULT_HEADROOM,
      round: DEFAULT_ROUND,
      vma: undefined,
      anonymiseUser: undefined,
    });
  } catch (err) {
    if (err instanceof ExitError) return unknownCheck(err.message, opts.warn, opts.crit);
    throw err;
  }
  const limit = report.maxMapCount;
  if (limit === null || limit <= 0)
    return unknownCheck(
      `Cannot read vm.max_map_count from "${opts.procfs}/sys/vm/max_map_count"`,
      opts.warn,
      opts.crit,
    );
  const top = report.topProcesses[0];
  if (!top)
    return unknownCheck(
      `No process under "${opts.procfs}" could be read (${report.coverage.unreadable} unreadable): run as root`,
      opts.warn,
      opts.crit,
    );
  return evaluateCheck({
    busiest: { pid: top.pid, app: top.app, vmas: top.vmas },
    limit,
    warn: opts.warn,
    crit: opts.crit,
  });
}

export const checkCommand: Command = {
  name: "check",
  summary: "Monitoring plugin: OK/WARNING/CRITICAL by the busiest process's share of the limit",
  description: `
Finds the process with the most VMAs and compares it with vm.max_map_count.
Prints one line in the monitoring-plugins format, with perfdata
(max_vmas=VMAS;WARN;CRIT;0;LIMIT), for Nagios, Icinga, Sensu and the like.
WARNING when the process is above --warn percent of the limit, CRITICAL above
--crit percent.

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (proc or the limit cannot
be read, no process readable, or a bad flag: a usage error exits 3, not 2,
because 2 means CRITICAL to a monitoring system). Run as root to see every
process.`,
  usageExitCode: CHECK_EXIT.UNKNOWN,
  options: {
    warn: {
      type: "string",
      value: "P",
      description: "WARNING above this percent of vm.max_map_count",
      default: String(DEFAULT_WARN_PERCENT),
    },
    crit: {
      type: "string",
      value: "P",
      description: "CRITICAL above this percent of vm.max_map_count",
      default: String(DEFAULT_CRIT_PERCENT),
    },
    ...JSON_OPTION,
    ...PROCFS_OPTION,
  },
  examples: ["sudo vmaudit check", "sudo vmaudit check --warn 70 --crit 90"],
  run({ values, io }) {
    const opts = parseCheckOptions(values);
    const result = runCheck(opts);
    io.stdout(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.line}\n`);
    return result.exitCode;
  },
};
