/**
 * Pure parsing of sysctl.d configuration text, the way systemd-sysctl
 * (src/sysctl/sysctl.c, parse_file) and procps `sysctl -p` read it.
 */
import { INT_MAX } from "../cli/values.ts";

/** One `key = value` line of a sysctl config file. */
export interface SysctlAssignment {
  /** The key in dotted form, e.g. `vm.max_map_count` (also for `vm/max_map_count`). */
  key: string;
  /** The value with surrounding whitespace removed. */
  value: string;
  /** 1-based line number. */
  line: number;
  /** A leading `-` on the key: a failed write is ignored. */
  ignoreErrors: boolean;
}

/**
 * The dotted form of a sysctl key. Both tools accept `vm/max_map_count`:
 * when the first separator is a slash, slashes and dots swap
 * (systemd src/shared/sysctl-util.c, sysctl_normalize), so a dot inside a
 * slash-form name such as `net/ipv4/conf/eth0.100/rp_filter` stays part of
 * that name.
 *
 * @example
 * normalizeSysctlKey("vm/max_map_count"); // "vm.max_map_count"
 */
export function normalizeSysctlKey(raw: string): string {
  const key = raw.trim();
  const first = /[./]/.exec(key)?.[0];
  if (first !== "/") return key.replace(/\.{2,}/g, ".");
  return key
    .replace(/\/{2,}/g, "/")
    .replace(/[./]/g, (c) => (c === "/" ? "." : "/"))
    .replace(/^\.+|\.+$/g, "");
}

/**
 * Every assignment in a config file's text, in order. Blank lines, comments
 * (`#` or `;` as the first non-blank character) and lines without `=` are
 * skipped, as both tools do.
 *
 * @example
 * parseSysctlConfig("# c\n -vm/max_map_count =  262144 \n")[0];
 * // { key: "vm.max_map_count", value: "262144", line: 2, ignoreErrors: true }
 */
export function parseSysctlConfig(text: string): SysctlAssignment[] {
  const out: SysctlAssignment[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const p = (lines[i] ?? "").trim();
    if (p === "" || p.startsWith("#") || p.startsWith(";")) continue;
    const eq = p.indexOf("=");
    // A line without "=" is a syntax error (systemd) or a "-key" exclusion
    // for globs; neither assigns anything.
    if (eq < 0) continue;
    let rawKey = p.slice(0, eq).trim();
    const ignoreErrors = rawKey.startsWith("-");
    if (ignoreErrors) rawKey = rawKey.slice(1);
    const key = normalizeSysctlKey(rawKey);
    if (key === "") continue;
    out.push({ key, value: p.slice(eq + 1).trim(), line: i + 1, ignoreErrors });
  }
  return out;
}

/**
 * A value the kernel accepts for vm.max_map_count, or undefined. The sysctl
 * is a C int with a minimum of 0: its ctl_table entry uses
 * proc_dointvec_minmax with extra1 = SYSCTL_ZERO.
 *
 * @example
 * parseMaxMapCountValue("262144"); // 262144
 * parseMaxMapCountValue("1e6"); // undefined
 */
export function parseMaxMapCountValue(value: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= INT_MAX ? n : undefined;
}

/** The key vmaudit manages, in dotted form. */
export const MAX_MAP_COUNT_KEY = "vm.max_map_count";
