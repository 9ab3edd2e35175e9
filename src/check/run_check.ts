/**
 * `vmaudit check` end to end: scan, then judge the busiest process against
 * the limit. Every failure to read becomes UNKNOWN, never an exception.
 */
import { ExitError } from "../errors.ts";
import { busiestOf, scanForBusiest } from "../scan/scan_system.ts";
import {
  type CheckResult,
  evaluateCheck,
  limitProblem,
  type Unseen,
  unknownCheck,
  unseenCount,
  unseenReason,
} from "./evaluate.ts";

export interface CheckOptions {
  procfs: string;
  warn: number;
  crit: number;
  json: boolean;
  /** Judge the readable processes even when some could not be read. */
  allowPartial: boolean;
  /** `--min N`: CRITICAL when the live limit is below N. */
  min?: number;
}

/**
 * Scan and evaluate. Any failure to read becomes UNKNOWN, never an exception.
 * A check that cannot see every process is UNKNOWN too (unless
 * `allowPartial`): without root it sees only its own user's processes, and an
 * OK from those would be a false OK.
 *
 * @example
 * runCheck({ procfs: "/proc", warn: 80, crit: 95, json: false, allowPartial: false }).status; // "OK"
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
  // Known from here on: the limit, so --min can be judged whatever the processes say.
  const minimum = opts.min === undefined ? undefined : { limit, min: opts.min };
  const c = report.coverage;
  const unseen: Unseen = {
    seen: c.seen,
    denied: c.unreadable,
    errors: c.errors,
    asRoot: report.asRoot,
  };
  const unreadable = unseenCount(unseen);
  if (unreadable > 0 && !opts.allowPartial)
    return unknownCheck(unseenReason(unseen), opts.warn, opts.crit, unreadable, minimum);
  const busiest = busiestOf(report);
  if (!busiest)
    return unknownCheck(
      `No process under "${opts.procfs}" could be read (${unreadable} unreadable): run as root`,
      opts.warn,
      opts.crit,
      unreadable,
      minimum,
    );
  return evaluateCheck({
    busiest,
    limit,
    warn: opts.warn,
    crit: opts.crit,
    partial: { unreadable, seen: c.seen },
    min: opts.min,
  });
}
