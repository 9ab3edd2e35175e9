/**
 * The pure half of `vmaudit check`: from the busiest process and the limit to
 * a monitoring-plugins status, exit code and one output line with perfdata.
 *
 * Convention (monitoring-plugins guidelines): exit 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN; output `SERVICE STATUS - text | perfdata`, where
 * perfdata is `label=value;warn;crit;min;max` and a threshold `N` alerts when
 * the value is above N, `N:` when it is below N.
 *
 * `--min N` adds a second judgement, of the limit itself: CRITICAL when it is
 * below N. The two combine as monitoring-plugins' max_state_alt does
 * (CRITICAL > WARNING > UNKNOWN > OK), so a limit known to be too low is
 * CRITICAL even when the processes could not all be read.
 */
import { INT_MAX } from "../core/kernel_limits.ts";
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
  /** Thresholds in VMAs: alert when vmas is above them (percent null: the flags were not understood). */
  warn: { percent: number | null; vmas: number | null };
  crit: { percent: number | null; vmas: number | null };
  /** Processes whose maps could not be read (null when no scan was made). */
  unreadable: number | null;
  /** `--min`: the floor and how the limit compares with it; null without --min or when the limit is unknown. */
  min: { value: number; status: "OK" | "CRITICAL" } | null;
  /** The one line a monitoring system shows, with perfdata. */
  line: string;
}

/**
 * Why a limit read from /proc cannot be judged against, or undefined when it
 * can: it must be a whole number from 1 to INT_MAX. A fake or broken proc
 * tree can say -1 or 1e23, and a ratio against that is no answer.
 *
 * @example
 * limitProblem(65530); // undefined
 * limitProblem(-1); // "it reads -1, expected a whole number from 1 to 2147483647"
 */
export function limitProblem(limit: number): string | undefined {
  if (Number.isSafeInteger(limit) && limit >= 1 && limit <= INT_MAX) return undefined;
  return `it reads ${limit}, expected a whole number from 1 to ${INT_MAX}`;
}

/** What a scan could not see: the coverage fields that matter to check. */
export interface Unseen {
  /** Processes listed. */
  seen: number;
  /** Permission denied. */
  denied: number;
  /** Other read errors, by code. */
  errors: Record<string, number>;
  asRoot: boolean;
}

/** How many processes could not be read. */
export function unseenCount(u: Unseen): number {
  return u.denied + Object.values(u.errors).reduce((a, b) => a + b, 0);
}

/**
 * Why the check cannot see every process, for the UNKNOWN line.
 *
 * @example
 * unseenReason({ seen: 120, denied: 57, errors: {}, asRoot: false });
 * // "57 of 120 processes could not be read (57 permission denied: not running as root): run as root, or pass --allow-partial to judge the readable ones"
 */
export function unseenReason(u: Unseen): string {
  const parts: string[] = [];
  if (u.denied > 0)
    parts.push(
      `${u.denied} permission denied${u.asRoot ? " even as root" : ": not running as root"}`,
    );
  for (const [code, n] of Object.entries(u.errors)) parts.push(`${n} ${code}`);
  const fix = u.asRoot ? "pass" : "run as root, or pass";
  return `${unseenCount(u)} of ${u.seen} processes could not be read (${parts.join(", ")}): ${fix} --allow-partial to judge the readable ones`;
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
function sanitize(text: string): string {
  return escapeControl(text).replaceAll("|", "\\x7c");
}

/** The order of badness, worst first (monitoring-plugins' max_state_alt). */
const SEVERITY: readonly CheckStatus[] = ["CRITICAL", "WARNING", "UNKNOWN", "OK"];

/**
 * The worse of two states: CRITICAL > WARNING > UNKNOWN > OK.
 *
 * @example
 * worstStatus("UNKNOWN", "CRITICAL"); // "CRITICAL"
 * worstStatus("OK", "UNKNOWN"); // "UNKNOWN"
 */
export function worstStatus(a: CheckStatus, b: CheckStatus): CheckStatus {
  return SEVERITY.indexOf(a) <= SEVERITY.indexOf(b) ? a : b;
}

/** `--min`: the live limit against the floor a workload needs. */
export interface Minimum {
  /** The live vm.max_map_count (already known to be sane: limitProblem). */
  limit: number;
  /** --min N. */
  min: number;
}

/**
 * The state, text and perfdata `--min` adds: CRITICAL below the floor, OK at
 * or above it. The perfdata threshold `N:` alerts below N.
 *
 * @example
 * minimumPart({ limit: 65530, min: 262144 }).text; // "vm.max_map_count 65530 is below --min 262144"
 */
export function minimumPart(m: Minimum): {
  status: "OK" | "CRITICAL";
  text: string;
  perfdata: string;
} {
  const below = m.limit < m.min;
  return {
    status: below ? "CRITICAL" : "OK",
    text: below
      ? `vm.max_map_count ${m.limit} is below --min ${m.min}`
      : `vm.max_map_count ${m.limit} meets --min ${m.min}`,
    perfdata: `max_map_count=${m.limit};;${m.min}:;0;${INT_MAX}`,
  };
}

/**
 * A state, its text and perfdata, with `--min` folded in: a failed minimum
 * comes first in the text (it is what makes the state), a met one last.
 */
function finish(
  status: CheckStatus,
  text: string,
  perfdata: string[],
  minimum: Minimum | undefined,
): { status: CheckStatus; line: string; min: CheckResult["min"] } {
  let min: CheckResult["min"] = null;
  if (minimum) {
    const m = minimumPart(minimum);
    status = worstStatus(status, m.status);
    text = m.status === "CRITICAL" ? `${m.text}; ${text}` : `${text}; ${m.text}`;
    perfdata = [...perfdata, m.perfdata];
    min = { value: minimum.min, status: m.status };
  }
  const perf = perfdata.length > 0 ? ` | ${perfdata.join(" ")}` : "";
  return { status, line: `VMAUDIT ${status} - ${text}${perf}`, min };
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
  /** Processes left unread under --allow-partial; said in the line. */
  partial?: { unreadable: number; seen: number };
  /** `--min N`: the limit must be at least N. */
  min?: number;
}): CheckResult {
  const { busiest, limit, warn, crit, partial } = input;
  const w = thresholdVmas(limit, warn);
  const c = thresholdVmas(limit, crit);
  const usage: CheckStatus = busiest.vmas > c ? "CRITICAL" : busiest.vmas > w ? "WARNING" : "OK";
  const usagePercent = (busiest.vmas / limit) * 100;
  const text = `pid ${busiest.pid} (${sanitize(busiest.app)}) at ${formatPercent(usagePercent)} of vm.max_map_count (${busiest.vmas} of ${limit} VMAs)${partial && partial.unreadable > 0 ? `; ${partial.unreadable} of ${partial.seen} processes unreadable, allowed by --allow-partial` : ""}`;
  const { status, line, min } = finish(
    usage,
    text,
    [`max_vmas=${busiest.vmas};${w};${c};0;${limit}`],
    input.min === undefined ? undefined : { limit, min: input.min },
  );
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
    unreadable: partial?.unreadable ?? 0,
    min,
    line,
  };
}

/**
 * The UNKNOWN result: the check could not be made (proc unreadable, limit
 * unknown, no process readable). With `minimum` (the limit was read, the
 * processes were not), a limit below --min still makes it CRITICAL: that
 * much is known.
 *
 * @example
 * unknownCheck('Cannot scan "/nope": ENOENT', 80, 95).exitCode; // 3
 */
export function unknownCheck(
  reason: string,
  warn: number | null,
  crit: number | null,
  unreadable: number | null = null,
  minimum?: Minimum,
): CheckResult {
  const { status, line, min } = finish("UNKNOWN", sanitize(reason), [], minimum);
  return {
    schemaVersion: CHECK_SCHEMA_VERSION,
    status,
    exitCode: CHECK_EXIT[status],
    pid: null,
    app: null,
    vmas: null,
    maxMapCount: minimum?.limit ?? null,
    usagePercent: null,
    warn: { percent: warn, vmas: null },
    crit: { percent: crit, vmas: null },
    unreadable,
    min,
    line,
  };
}
