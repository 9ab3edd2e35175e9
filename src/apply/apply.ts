/**
 * `vmaudit apply`: set vm.max_map_count now and, with --persist, in
 * /etc/sysctl.d; or undo that with --reset. Returns a result for the
 * renderers; refusals throw ExitError before anything changes.
 *
 * Order of work, so that a refusal changes nothing: scan and guards, then
 * the checks on the config file, then the live write (with read-back), then
 * the file, then the boot-time analysis of the config as it now stands.
 */
import type { RecommendFlags } from "../cli/common_flags.ts";
import { DOS_RISK_THRESHOLD } from "../core/recommend.ts";
import { EXIT_FAILURE, ExitError } from "../errors.ts";
import type { BusiestProcess } from "../limit/guards.ts";
import { busiestProcess, guardBelowPeak, guardHighValue } from "../limit/guards.ts";
import { setMaxMapCount } from "../limit/live.ts";
import { maxMapCountPath, readMaxMapCount } from "../proc/kernel.ts";
import type { ScanReport } from "../scan/report.ts";
import { scanSystem } from "../scan/scan_system.ts";
import { bootReaderOf, readSysctlConfigFiles } from "../sysctl/config_files.ts";
import {
  assertConfDirWritable,
  CONF_DIR,
  checkRemovable,
  confPath,
  isVmauditFile,
  persist,
  planPersist,
  removeOwnFile,
} from "../sysctl/persist.ts";
import {
  type BootAnalysis,
  type ConfigFile,
  compareNames,
  effectiveBootValue,
  laterFileName,
  memoryConfigFile,
  type Override,
  overridesOf,
  SYSCTL_CONF,
  type SysctlReader,
  withFile,
  withoutFile,
} from "../sysctl/precedence.ts";

export const APPLY_SCHEMA_VERSION = 1;

export interface ApplyInput {
  /** The VALUE argument; undefined means "the recommendation of a fresh scan". */
  value: number | undefined;
  recommend: RecommendFlags;
  procfs: string;
  /** Prefix for every config path ("/" on a live system). */
  root: string;
  persist: boolean;
  /** File name in /etc/sysctl.d. */
  file: string;
  dryRun: boolean;
  force: boolean;
  reset: boolean;
  now?: Date;
}

export type FileAction = "write" | "unchanged" | "remove" | "absent";

export interface ApplyResult {
  schemaVersion: typeof APPLY_SCHEMA_VERSION;
  action: "apply" | "reset";
  dryRun: boolean;
  /** Whether anything changed (or, with --dry-run, would change): Ansible's "changed". */
  changed: boolean;
  /** The live value set (or that would be set). */
  value: number;
  /** Where the value came from. */
  source: "argument" | "recommendation" | "config" | "kernel-default";
  live: { path: string; previous: number; value: number; changed: boolean };
  /** The config file vmaudit manages; null without --persist or --reset. */
  file: {
    path: string;
    action: FileAction;
    changed: boolean;
    /** The content written (or that would be written); null when removed or absent. */
    content: string | null;
  } | null;
  /** The tool that applies sysctl config at boot on this system. */
  bootReader: SysctlReader;
  /** The value the boot reader gives after this change. */
  bootValue: number;
  boot: BootAnalysis;
  /** Readers that would not give `value` at boot (only judged with --persist). */
  overrides: Override[];
  /** A --file name that sorts after the overriding file, when a file (not sysctl.conf) overrides. */
  suggestedFile: string | null;
  busiest: BusiestProcess | null;
  recommendedLimit: number | null;
  warnings: string[];
}

function scanFor(input: ApplyInput): ScanReport {
  return scanSystem({
    procfs: input.procfs,
    top: 1,
    ...input.recommend,
    anonymiseUser: undefined,
  });
}

function currentLimit(procfs: string): number {
  const v = readMaxMapCount(procfs);
  if (v === undefined) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot read "${maxMapCountPath(procfs)}": expected the current vm.max_map_count`,
    );
  }
  return v;
}

function setLive(value: number, input: ApplyInput): ApplyResult["live"] {
  const path = maxMapCountPath(input.procfs);
  if (input.dryRun) {
    const previous = currentLimit(input.procfs);
    return { path, previous, value, changed: previous !== value };
  }
  const c = setMaxMapCount(value, input.procfs);
  return { path, previous: c.previous, value: c.current, changed: c.changed };
}

function coverageWarnings(report: ScanReport): string[] {
  if (report.asRoot || report.coverage.unreadable === 0) return [];
  return [
    `${report.coverage.unreadable} processes could not be read without root, so the busiest process may be missing`,
  ];
}

/**
 * Set (and with --persist, persist) the limit.
 *
 * @example
 * applyLimit({ value: 120000, persist: true, file: "90-vm_max_map_count.conf", root: "/", procfs: "/proc", ... });
 */
export function applyLimit(input: ApplyInput): ApplyResult {
  const report = scanFor(input);
  const busiest = busiestProcess(report);
  const value = input.value ?? report.recommendedLimit;
  if (value === null) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot recommend a limit: no process under "${input.procfs}" could be read. Give the VALUE yourself`,
    );
  }
  const what = input.value === undefined ? `the recommended limit ${value}` : `VALUE ${value}`;
  guardBelowPeak({ what, value, busiest, force: input.force });
  guardHighValue({
    what,
    value,
    threshold: DOS_RISK_THRESHOLD,
    objsize: report.kernel.vmaSlab?.objsize,
    force: input.force,
  });

  const now = input.now ?? new Date();
  // Plan the file first: a symlink or a non-file there is refused before
  // anything changes.
  const previous = currentLimit(input.procfs);
  const plan = input.persist
    ? planPersist({ root: input.root, name: input.file, value, previous, now })
    : undefined;

  if (plan?.changed && !input.dryRun) assertConfDirWritable(input.root);

  const live = setLive(value, input);
  if (plan && !input.dryRun) persist(plan, input.root);

  let files = readSysctlConfigFiles(input.root);
  if (plan && input.dryRun) files = withFile(files, ownFile(plan.path, plan.content));
  const boot = effectiveBootValue(files);
  const bootReader = bootReaderOf(input.root);
  const overrides = plan ? overridesOf(boot, value) : [];
  const warnings = coverageWarnings(report);
  if (!plan && boot[bootReader].value !== value) {
    warnings.push(
      `Without --persist the limit goes back to ${boot[bootReader].value} at the next boot`,
    );
  }
  return {
    schemaVersion: APPLY_SCHEMA_VERSION,
    action: "apply",
    dryRun: input.dryRun,
    changed: live.changed || (plan?.changed ?? false),
    value,
    source: input.value === undefined ? "recommendation" : "argument",
    live,
    file: plan
      ? {
          path: plan.path,
          action: plan.changed ? "write" : "unchanged",
          changed: plan.changed,
          content: plan.content,
        }
      : null,
    bootReader,
    bootValue: boot[bootReader].value,
    boot,
    overrides,
    suggestedFile: suggestFile(overrides),
    busiest: busiest ?? null,
    recommendedLimit: report.recommendedLimit,
    warnings,
  };
}

/**
 * Remove vmaudit's file (only if vmaudit wrote it) and set the live value to
 * what the remaining config gives at boot, or the kernel default.
 *
 * @example
 * resetLimit({ root: "/", procfs: "/proc", file: "90-vm_max_map_count.conf", ... });
 */
export function resetLimit(input: ApplyInput): ApplyResult {
  const present = checkRemovable(input.root, input.file);
  const path = confPath(input.file);
  const boot = effectiveBootValue(withoutFile(readSysctlConfigFiles(input.root), path));
  const bootReader = bootReaderOf(input.root);
  const value = boot[bootReader].value;
  const report = scanFor(input);
  const busiest = busiestProcess(report);
  guardBelowPeak({ what: `resetting to ${value}`, value, busiest, force: input.force });
  if (present && !input.dryRun) assertConfDirWritable(input.root);

  const live = setLive(value, input);
  if (present && !input.dryRun) removeOwnFile(input.root, input.file);
  const warnings = coverageWarnings(report);
  const others = readSysctlConfigFiles(input.root).filter(
    (f) =>
      f.path !== path &&
      f.dir === CONF_DIR &&
      f.kind === "file" &&
      isVmauditFile(Buffer.from(f.data).toString("utf8")),
  );
  for (const f of others) {
    warnings.push(
      `${f.path} was also written by vmaudit and stays; remove it with 'vmaudit apply --reset --file ${f.name}'`,
    );
  }
  if (boot.systemd.value !== boot.procps.value) {
    warnings.push(
      `systemd-sysctl gives ${boot.systemd.value} but 'sysctl --system' gives ${boot.procps.value}; see 'vmaudit apply --show-config'`,
    );
  }
  return {
    schemaVersion: APPLY_SCHEMA_VERSION,
    action: "reset",
    dryRun: input.dryRun,
    changed: live.changed || present,
    value,
    source: boot[bootReader].winner ? "config" : "kernel-default",
    live,
    file: { path, action: present ? "remove" : "absent", changed: present, content: null },
    bootReader,
    bootValue: value,
    boot,
    overrides: [],
    suggestedFile: null,
    busiest: busiest ?? null,
    recommendedLimit: report.recommendedLimit,
    warnings,
  };
}

function ownFile(path: string, text: string): ConfigFile {
  return memoryConfigFile(CONF_DIR, path.slice(CONF_DIR.length + 1), text);
}

function suggestFile(overrides: Override[]): string | null {
  const names = overrides
    .map((o) => o.winner?.path)
    .filter((p): p is string => p !== undefined && p !== SYSCTL_CONF)
    .map((p) => p.slice(p.lastIndexOf("/") + 1));
  // One name that sorts after every overriding file.
  const last = names.sort(compareNames).at(-1);
  return last === undefined ? null : laterFileName(last);
}

export interface ShowConfigResult {
  schemaVersion: typeof APPLY_SCHEMA_VERSION;
  action: "show-config";
  root: string;
  liveValue: number | null;
  bootReader: SysctlReader;
  bootValue: number;
  boot: BootAnalysis;
}

/**
 * The boot-time analysis alone: every file that sets the key, in order, and
 * which one wins. Reads only.
 *
 * @example
 * showConfig({ root: "/", procfs: "/proc" }).bootValue; // 65530 on a default system
 */
export function showConfig(input: { root: string; procfs: string }): ShowConfigResult {
  const boot = effectiveBootValue(readSysctlConfigFiles(input.root));
  const bootReader = bootReaderOf(input.root);
  return {
    schemaVersion: APPLY_SCHEMA_VERSION,
    action: "show-config",
    root: input.root,
    liveValue: readMaxMapCount(input.procfs) ?? null,
    bootReader,
    bootValue: boot[bootReader].value,
    boot,
  };
}
