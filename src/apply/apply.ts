/**
 * `vmaudit apply`: set vm.max_map_count now and, with --persist, in
 * /etc/sysctl.d; or undo that with --reset. Returns a result for the
 * renderers; refusals throw ExitError before anything changes.
 *
 * Order of work, so that a refusal changes nothing: scan and guards, then
 * the checks on the config file, then the live write (with read-back), then
 * the file, then the boot-time analysis of the config as it now stands.
 * A dry run makes the same checks and stops before the writes.
 *
 * A --root other than / is an offline image, as for `systemctl --root` and
 * `bootctl --root`: only files under it change, the live value is neither
 * read nor written, and the running processes do not matter (no below-peak
 * guard). Paths in the result carry the root in front.
 */
import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { DOS_RISK_THRESHOLD } from "../core/recommend.ts";
import { EXIT_FAILURE, ExitError, errnoCode, UsageError } from "../errors.ts";
import { withRoot } from "../fs/root_path.ts";
import { isRoot } from "../identity.ts";
import type { BusiestProcess } from "../limit/guards.ts";
import { guardBelowPeak, guardHighValue } from "../limit/guards.ts";
import { explainWriteError, setMaxMapCount } from "../limit/live.ts";
import { maxMapCountPath, readMaxMapCount } from "../proc/kernel.ts";
import type { ScanReport } from "../scan/report.ts";
import { busiestOf, type RecommendSettings, scanSystem } from "../scan/scan_system.ts";
import { CONF_DIR } from "../sysctl/conf_name.ts";
import { bootReaderOf, readSysctlConfigFiles } from "../sysctl/config_files.ts";
import {
  assertConfDirWritable,
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
  type KeySetting,
  laterFileName,
  memoryConfigFile,
  type Override,
  overridesOf,
  type ReaderOutcome,
  SYSCTL_CONF,
  type SysctlReader,
  withFile,
  withoutFile,
} from "../sysctl/precedence.ts";

export const APPLY_SCHEMA_VERSION = 1;

export interface ApplyInput {
  /** The VALUE argument; undefined means "the recommendation of a fresh scan". */
  value: number | undefined;
  recommend: RecommendSettings;
  procfs: string;
  /** Prefix for every config path: "/" on a live system, else an offline image. */
  root: string;
  persist: boolean;
  /** File name in /etc/sysctl.d. */
  file: string;
  dryRun: boolean;
  force: boolean;
  reset: boolean;
  /** `--at-least N`: raise to N, never lower (src/apply/floor.ts); undefined otherwise. */
  atLeast?: number;
  now?: Date;
}

/**
 * What happened to vmaudit's file. A floor (`--at-least`) adds two: the
 * value at boot is already at least the floor (`not-needed`), or writing
 * the file would lower what another tool gives at boot while a tool stays
 * below the floor anyway (`not-written`).
 */
export type FileAction = "write" | "unchanged" | "remove" | "absent" | "not-needed" | "not-written";

export interface ApplyResult {
  schemaVersion: typeof APPLY_SCHEMA_VERSION;
  action: "apply" | "reset";
  dryRun: boolean;
  /** Whether anything changed (or, with --dry-run, would change): Ansible's "changed". */
  changed: boolean;
  /** The live value set (or that would be set); with `--at-least`, the floor. */
  value: number;
  /** Where the value came from; `at-least` for a floor. */
  source: "argument" | "recommendation" | "config" | "kernel-default" | "at-least";
  /** "/" for the running system, else the offline image whose files change. */
  root: string;
  /** The live value; null under an offline --root, where it is not touched. */
  live: { path: string; previous: number; value: number; changed: boolean } | null;
  /** The config file vmaudit manages; null without --persist or --reset. */
  file: {
    /** The real path, with the root in front. */
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
  /** Readers that would not give `value` (a floor: give less than it) at boot (only judged with --persist). */
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
    anonymizeUser: undefined,
  });
}

/**
 * Whether `root` is an offline image rather than the running system: any
 * directory but / itself (a link to / is the running system).
 */
export function isOfflineRoot(root: string): boolean {
  if (root === "/") return false;
  let real: string;
  try {
    real = realpathSync(root);
    if (!statSync(real).isDirectory()) throw Object.assign(new Error(), { code: "ENOTDIR" });
  } catch (err) {
    throw new UsageError(
      `Cannot use --root "${root}": expected a directory (${errnoCode(err) ?? String(err)})`,
      "apply",
    );
  }
  return real !== "/";
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

/**
 * The check a write of `value` to `path` would make, for a dry run: a
 * read-only /proc/sys (a container) fails the dry run too. Without root
 * only EROFS can be judged.
 */
export function assertLiveWritable(path: string, value: number): void {
  try {
    accessSync(path, constants.W_OK);
  } catch (err) {
    const code = errnoCode(err);
    if (code !== "EACCES" || isRoot()) throw explainWriteError(code, path, value);
  }
}

function setLive(
  value: number,
  previous: number,
  input: ApplyInput,
): NonNullable<ApplyResult["live"]> {
  const path = maxMapCountPath(input.procfs);
  if (input.dryRun) {
    if (previous !== value) assertLiveWritable(path, value);
    return { path, previous, value, changed: previous !== value };
  }
  const c = setMaxMapCount(value, input.procfs);
  return { path, previous: c.previous, value: c.current, changed: c.changed };
}

/**
 * The error of a file step that failed after the live value was set: the
 * admin must know the running system already has the new value.
 */
export function afterLiveChange(err: unknown, live: ApplyResult["live"], what: string): unknown {
  if (!live?.changed) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ExitError(
    err instanceof ExitError ? err.code : EXIT_FAILURE,
    `${message}. The live value is already changed: vm.max_map_count is ${live.value} now (it was ${live.previous}), but ${what}`,
    `Fix that and run the same command again, or go back with 'sudo vmaudit apply ${live.previous}'`,
  );
}

function coverageWarnings(report: ScanReport | undefined): string[] {
  if (!report || report.asRoot || report.coverage.unreadable === 0) return [];
  return [
    `${report.coverage.unreadable} processes could not be read without root, so the busiest process may be missing`,
  ];
}

/** `setting` with the root in front of its path. */
function settingUnder(root: string, s: KeySetting): KeySetting {
  return { ...s, path: withRoot(root, s.path) };
}

function readerUnder(root: string, o: ReaderOutcome): ReaderOutcome {
  const settings = o.settings.map((s) => settingUnder(root, s));
  // The winner stays one of the settings (renderers compare by identity).
  const winner = o.winner ? settings[o.settings.indexOf(o.winner)] : undefined;
  return { ...o, order: o.order.map((p) => withRoot(root, p)), settings, winner };
}

/**
 * The boot analysis with real paths: the root in front of every path.
 *
 * @example
 * bootUnder("/img", boot).systemd.winner?.path; // "/img/etc/sysctl.d/90-vm_max_map_count.conf"
 */
export function bootUnder(root: string, boot: BootAnalysis): BootAnalysis {
  if (root === "/") return boot;
  return {
    ...boot,
    systemd: readerUnder(root, boot.systemd),
    procps: readerUnder(root, boot.procps),
    shadowed: boot.shadowed.map((s) => ({
      ...s,
      path: withRoot(root, s.path),
      by: withRoot(root, s.by),
    })),
    unreadable: boot.unreadable.map((u) => ({ ...u, path: withRoot(root, u.path) })),
  };
}

/**
 * Set (and with --persist, persist) the limit.
 *
 * @example
 * applyLimit({ value: 120000, persist: true, file: "90-vm_max_map_count.conf", root: "/", procfs: "/proc", ... });
 */
export function applyLimit(input: ApplyInput): ApplyResult {
  const offline = isOfflineRoot(input.root);
  if (offline && !input.persist) {
    throw new UsageError(
      `Cannot use --root "${input.root}" without --persist: a --root other than / is an offline image, which has no live value to set`,
      "apply",
    );
  }
  // An offline image does not need a scan unless the value comes from one.
  const report = offline && input.value !== undefined ? undefined : scanFor(input);
  const busiest = report ? busiestOf(report) : undefined;
  const value = input.value ?? report?.recommendedLimit ?? null;
  if (value === null) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot recommend a limit: no process under "${input.procfs}" could be read. Give the VALUE yourself`,
    );
  }
  const what = input.value === undefined ? `the recommended limit ${value}` : `VALUE ${value}`;
  // The running processes do not run in an offline image.
  if (!offline) guardBelowPeak({ what, value, busiest, force: input.force });
  guardHighValue({
    what,
    value,
    threshold: DOS_RISK_THRESHOLD,
    objsize: report?.kernel.vmaSlab?.objsize,
    force: input.force,
  });

  const now = input.now ?? new Date();
  const before = offline ? readSysctlConfigFiles(input.root) : undefined;
  const bootReader = bootReaderOf(input.root);
  // Plan the file first: a symlink or a non-file there is refused before
  // anything changes. In an image the previous value is its boot value.
  const previous = before
    ? effectiveBootValue(before)[bootReader].value
    : currentLimit(input.procfs);
  const plan = input.persist
    ? planPersist({ root: input.root, name: input.file, value, previous, now })
    : undefined;

  if (plan?.changed) assertConfDirWritable(input.root, input.file);

  const live = offline ? null : setLive(value, previous, input);
  if (plan && !input.dryRun) {
    try {
      persist(plan, input.root);
    } catch (err) {
      throw afterLiveChange(err, live, `${withRoot(input.root, plan.path)} was not written`);
    }
  }

  let files = readSysctlConfigFiles(input.root);
  if (plan && input.dryRun) files = withFile(files, ownFile(plan.path, plan.content));
  const targetBoot = effectiveBootValue(files);
  const suggestedFile = suggestFile(plan ? overridesOf(targetBoot, value) : []);
  const boot = bootUnder(input.root, targetBoot);
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
    changed: (live?.changed ?? false) || (plan?.changed ?? false),
    value,
    source: input.value === undefined ? "recommendation" : "argument",
    root: input.root,
    live,
    file: plan
      ? {
          path: withRoot(input.root, plan.path),
          action: plan.changed ? "write" : "unchanged",
          changed: plan.changed,
          content: plan.content,
        }
      : null,
    bootReader,
    bootValue: boot[bootReader].value,
    boot,
    overrides,
    suggestedFile,
    busiest: busiest ?? null,
    recommendedLimit: report?.recommendedLimit ?? null,
    warnings,
  };
}

/**
 * Remove vmaudit's file (only if vmaudit wrote it) and set the live value to
 * what the remaining config gives at boot, or the kernel default. Under an
 * offline --root only the file goes.
 *
 * @example
 * resetLimit({ root: "/", procfs: "/proc", file: "90-vm_max_map_count.conf", ... });
 */
export function resetLimit(input: ApplyInput): ApplyResult {
  const offline = isOfflineRoot(input.root);
  const present = checkRemovable(input.root, input.file);
  const path = confPath(input.file);
  const boot = effectiveBootValue(withoutFile(readSysctlConfigFiles(input.root), path));
  const bootReader = bootReaderOf(input.root);
  const value = boot[bootReader].value;
  const report = offline ? undefined : scanFor(input);
  const busiest = report ? busiestOf(report) : undefined;
  if (!offline) {
    guardBelowPeak({ what: `resetting to ${value}`, value, busiest, force: input.force });
  }
  if (present) assertConfDirWritable(input.root, input.file);

  const live = offline ? null : setLive(value, currentLimit(input.procfs), input);
  if (present && !input.dryRun) {
    try {
      removeOwnFile(input.root, input.file);
    } catch (err) {
      throw afterLiveChange(err, live, `${withRoot(input.root, path)} was not removed`);
    }
  }
  const warnings = coverageWarnings(report);
  const others = readSysctlConfigFiles(input.root).filter(
    (f) =>
      f.path !== path &&
      f.dir === CONF_DIR &&
      f.kind === "file" &&
      isVmauditFile(Buffer.from(f.data).toString("utf8")),
  );
  const rootFlag = input.root === "/" ? "" : ` --root ${input.root}`;
  for (const f of others) {
    warnings.push(
      `${withRoot(input.root, f.path)} was also written by vmaudit and stays; remove it with 'vmaudit apply --reset --file ${f.name}${rootFlag}'`,
    );
  }
  if (boot.systemd.value !== boot.procps.value) {
    warnings.push(
      `systemd-sysctl gives ${boot.systemd.value} but 'sysctl --system' gives ${boot.procps.value}; see 'vmaudit apply --show-config${rootFlag}'`,
    );
  }
  return {
    schemaVersion: APPLY_SCHEMA_VERSION,
    action: "reset",
    dryRun: input.dryRun,
    changed: (live?.changed ?? false) || present,
    value,
    source: boot[bootReader].winner ? "config" : "kernel-default",
    root: input.root,
    live,
    file: {
      path: withRoot(input.root, path),
      action: present ? "remove" : "absent",
      changed: present,
      content: null,
    },
    bootReader,
    bootValue: value,
    boot: bootUnder(input.root, boot),
    overrides: [],
    suggestedFile: null,
    busiest: busiest ?? null,
    recommendedLimit: report?.recommendedLimit ?? null,
    warnings,
  };
}

export function ownFile(path: string, text: string): ConfigFile {
  return memoryConfigFile(CONF_DIR, path.slice(CONF_DIR.length + 1), text);
}

export function suggestFile(overrides: Override[]): string | null {
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
  /** The live value; null when unreadable, or not read under an offline --root. */
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
  const offline = isOfflineRoot(input.root);
  const boot = bootUnder(input.root, effectiveBootValue(readSysctlConfigFiles(input.root)));
  const bootReader = bootReaderOf(input.root);
  return {
    schemaVersion: APPLY_SCHEMA_VERSION,
    action: "show-config",
    root: input.root,
    liveValue: offline ? null : (readMaxMapCount(input.procfs) ?? null),
    bootReader,
    bootValue: boot[bootReader].value,
    boot,
  };
}
