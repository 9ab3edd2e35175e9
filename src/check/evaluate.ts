/**
 * The pure half of `vmaudit check`: from the busiest process and the limit to
 * a monitoring-plugins status, exit code and one output line with perfdata.
 *
 * Convention (monitoring-plugins guidelines): exit 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN; output `SERVICE STATUS - text | perfdata`, where
 * perfdata is `label=value;warn;crit;min;max` and a threshold `N` alerts when
 * the value is above N.
 */
import { escapeControl } from "../render/terminal_text.ts";
import { formatPercent } from "../render/units.ts";

export const CHECK_SCHEMA_VERSION = 1;
export const DEFAULT_WARN_PERCENT = 80;
export const DEFAULT_CRIT_PERCENT = 95;

export type CheckStatus = "OK" | "WARNING" | "CRITICAL" | "UNKNOWN";

export const CHECK_EXIT: Record<CheckStatus, number> = {
  OK: 0,
  WARNING: 1,
  CRITICAL: 2,
  UNKNOWN: 3,
};

export interface CheckResult {
  schemaVersion: typeof CHECK_SCHEMA_VERSION;
  status: CheckStatus;
  exitCode: number;
  /** The busiest process, when one could be read. */
  pid: number | null;
  app: string | null;
  vmas: number | null;
  maxMapCount: number | null;
  /** vmas / maxMapCount x 100. */
  usagePercent: number | null;
  /** Thresholds in VMAs: alert when vmas is above them. */
  warn: { percent: number; vmas: number | null };
  crit: { percent: number; vmas: number | null };
  /** The one line a monitoring system shows, with perfdata. */
  line: string;
}

/** The VMA count a percent of the limit stands for (alert above it). */
export function thresholdVmas(limit: number, percent: number): number {
  return Math.floor((limit * percent) / 100);
}

/**
 * App names come from argv: show control characters escaped (C1 included,
 * escapeControl), which also keeps the status line one line, and keep `|`
 * out of it, because `|` starts the perfdata.
 */
function sanitise(text: string): string {
  return escapeControl(text).replaceAll("|", "\\x7c");
}

/**
 * Evaluate the check.
 *
 * @example
 * evaluateCheck({ busiest: { pid: 1234, app: "java", vmas: 54321 }, limit: 65530, warn: 80, crit: 95 }).line;
 * // "VMAUDIT WARNING - pid 1234 (java) at 82.9% of vm.max_map_count (54321 of 65530 VMAs) | max_vmas=54321;52424;62253;0;65530"
 */
export function evaluateCheck(input: {
  busiest: { pid: number; app: string; vmas: number };
  limit: number;
  warn: number;
  crit: number;
}): CheckResult {
  const { busiest, limit, warn, crit } = input;
  const w = thresholdVmas(limit, warn);
  const c = thresholdVmas(limit, crit);
  const status: CheckStatus = busiest.vmas > c ? "CRITICAL" : busiest.vmas > w ? "WARNING" : "OK";
  const usagePercent = (busiest.vmas / limit) * 100;
  const line = `VMAUDIT ${status} - pid ${busiest.pid} (${sanitise(busiest.app)}) at ${formatPercent(usagePercent)} of vm.max_map_count (${busiest.vmas} of ${limit} VMAs) | max_vmas=${busiest.vmas};${w};${c};0;${limit}`;
  return {
    schemaVersion: CHECK_SCHEMA_VERSION,
    status,
    exitCode: CHECK_EXIT[status],
    pid: busiest.pid,
    app: busiest.app,
    vmas: busiest.vmas,
    maxMapCount: limit,
    usagePercent,
    warn: { percent: warn, vmas: w },
    crit: { percent: crit, vmas: c },
    line,
  };
}

/**
 * The UNKNOWN result: the check could not be made (proc unreadable, limit
 * unknown, no process readable).
 *
 * @example
 * unknownCheck('Cannot scan "/nope": ENOENT', 80, 95).exitCode; // 3
 */
export function unknownCheck(reason: string, warn: number, crit: number): CheckResult {
  return {
    schemaVersion: CHECK_SCHEMA_VERSION,
    status: "UNKNOWN",
    exitCode: CHECK_EXIT.UNKNOWN,
    pid: null,
    app: null,
    vmas: null,
    maxMapCount: null,
    usagePercent: null,
    warn: { percent: warn, vmas: null },
    crit: { percent: crit, vmas: null },
    line: `VMAUDIT UNKNOWN - ${sanitise(reason)}`,
  };
}
