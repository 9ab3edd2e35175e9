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
  limitProblem,
  type Unseen,
  unknownCheck,
  unseenCount,
  unseenReason,
} from "../check/evaluate.ts";
import type { Command, OptionValues } from "../cli/command.ts";
import { JSON_OPTION, PROCFS_OPTION, procfsFlag } from "../cli/common_flags.ts";
import { stringOption } from "../cli/parse.ts";
import { parseDecimal } from "../cli/values.ts";
import { ExitError, UsageError } from "../errors.ts";
import { busiestOf, scanForBusiest } from "../scan/scan_system.ts";

export interface CheckOptions {
  procfs: string;
  warn: number;
  crit: number;
  json: boolean;
  /** Judge the readable processes even when some could not be read. */
  allowPartial: boolean;
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
  return {
    procfs: procfsFlag(values, "check"),
    warn,
    crit,
    json: values.json === true,
    allowPartial: values["allow-partial"] === true,
  };
}

/**
 * Scan and evaluate. Any failure to read becomes UNKNOWN, never an exception.
 * A check that cannot see every process is UNKNOWN too (unless
 * `allowPartial`): without root it sees only its own user's processes, and an
 * OK from those would be a false OK.
 */
export function runCheck(opts: CheckOptions): CheckResult {
  let report: ReturnType<typeof scanForBusiest>;
  try {
    report = scanForBusiest(opts.procfs);
  } catch (err) {
    if (err instanceof ExitError) return unknownCheck(err.message, opts.warn, opts.crit);
    throw err;
  }
  const limitPath = `${opts.procfs}/sys/vm/max_map_count`;
  const limit = report.maxMapCount;
  if (limit === null)
    return unknownCheck(`Cannot read vm.max_map_count from "${limitPath}"`, opts.warn, opts.crit);
  const badLimit = limitProblem(limit);
  if (badLimit)
    return unknownCheck(
      `Cannot use vm.max_map_count from "${limitPath}": ${badLimit}`,
      opts.warn,
      opts.crit,
    );
  const c = report.coverage;
  const unseen: Unseen = {
    seen: c.seen,
    denied: c.unreadable,
    errors: c.errors,
    asRoot: report.asRoot,
  };
  const unreadable = unseenCount(unseen);
  if (unreadable > 0 && !opts.allowPartial)
    return unknownCheck(unseenReason(unseen), opts.warn, opts.crit, unreadable);
  const busiest = busiestOf(report);
  if (!busiest)
    return unknownCheck(
      `No process under "${opts.procfs}" could be read (${unreadable} unreadable): run as root`,
      opts.warn,
      opts.crit,
      unreadable,
    );
  return evaluateCheck({
    busiest,
    limit,
    warn: opts.warn,
    crit: opts.crit,
    partial: { unreadable, seen: c.seen },
  });
}

/** The result as a monitor reads it: one status line, or JSON. */
function renderCheck(result: CheckResult, json: boolean): string {
  return json ? `${JSON.stringify(result, null, 2)}\n` : `${result.line}\n`;
}

/**
 * Whether the arguments ask for JSON, read without the parser (which is what
 * failed when this is needed): a `--json` before any `--`.
 */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).includes("--json");
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
be read, some process could not be read, or a bad flag: a usage error exits 3,
not 2, because 2 means CRITICAL to a monitoring system). Every outcome prints
one status line on stdout (JSON with --json).

Run as root: a check that cannot read every process is UNKNOWN, since an OK
from the processes it happens to see would be a false OK. --allow-partial
judges the readable ones instead and says how many were left out.`,
  usageExitCode: CHECK_EXIT.UNKNOWN,
  usageErrorStdout: (message, args) =>
    renderCheck(unknownCheck(message, null, null), wantsJson(args)),
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
    "allow-partial": {
      type: "boolean",
      description:
        "Judge the processes that could be read even when others could not (default: UNKNOWN)",
    },
    ...JSON_OPTION,
    ...PROCFS_OPTION,
  },
  examples: [
    "sudo vmaudit check",
    "sudo vmaudit check --warn 70 --crit 90",
    "vmaudit check --allow-partial",
  ],
  run({ values, io }) {
    const opts = parseCheckOptions(values);
    let result: CheckResult;
    try {
      result = runCheck(opts);
    } catch (err) {
      // A bug must not reach the monitor as exit 1 (WARNING) with no line.
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      io.stderr(`vmaudit: internal error (please report this):\n${detail}\n`);
      const message = err instanceof Error ? err.message : String(err);
      result = unknownCheck(
        `Internal error (please report this): ${message}`,
        opts.warn,
        opts.crit,
      );
    }
    io.stdout(renderCheck(result, opts.json));
    return result.exitCode;
  },
};
