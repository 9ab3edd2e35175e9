/**
 * Which sysctl config file decides a key at boot. Pure: it works on a list
 * of files already read (see `config_files.ts`), so tests and `--dry-run`
 * can add or remove a file in memory.
 *
 * The rules, as systemd-sysctl (src/basic/conf-files.c, conf_files_list) and
 * procps `sysctl --system` (sysctl.c, PreloadSystem) apply them:
 * - directories in priority order; a file in an earlier directory hides a
 *   file of the same name in a later one, and a symlink to /dev/null hides
 *   it without setting anything (a mask);
 * - the surviving files are sorted by file name alone, whatever their
 *   directory, and applied in that order, so for one key the file whose name
 *   sorts last wins;
 * - procps then reads /etc/sysctl.conf, last of all; systemd never reads it.
 */
import { KERNEL_DEFAULT_LIMIT } from "../core/recommend.ts";
import { MAX_MAP_COUNT_KEY, parseMaxMapCountValue, parseSysctlConfig } from "./config.ts";

export type SysctlReader = "systemd" | "procps";

/** systemd-sysctl's directories, highest priority first. */
export const SYSTEMD_DIRS = [
  "/etc/sysctl.d",
  "/run/sysctl.d",
  "/usr/local/lib/sysctl.d",
  "/usr/lib/sysctl.d",
] as const;
/** procps `sysctl --system` also reads /lib/sysctl.d (a link to /usr/lib on merged-/usr systems). */
export const PROCPS_DIRS = [...SYSTEMD_DIRS, "/lib/sysctl.d"] as const;
/** Read last by procps only. */
export const SYSCTL_CONF = "/etc/sysctl.conf";

/** One config file as found on the target system. */
export interface ConfigFile {
  /** The path on the target system (without any --root prefix). */
  path: string;
  /** Its directory, one of PROCPS_DIRS, or "/etc" for /etc/sysctl.conf. */
  dir: string;
  name: string;
  /** A symlink to /dev/null: hides same-name files in later directories, sets nothing. */
  masked: boolean;
  text: string;
  /** Why the file could not be read, if it could not. */
  error?: string;
}

/** One assignment of the key, with the file it is in. */
export interface KeySetting {
  path: string;
  line: number;
  /** The value as written. */
  raw: string;
  /** The value as the kernel would take it, or undefined when it refuses it. */
  value: number | undefined;
}

export interface ReaderOutcome {
  reader: SysctlReader;
  /** Paths in the order this reader applies them. */
  order: string[];
  /** Every assignment of the key, in the order applied. */
  settings: KeySetting[];
  /** The assignment that decides the value, or undefined when none does. */
  winner: KeySetting | undefined;
  /** The value after this reader has run at boot. */
  value: number;
}

export interface Shadowed {
  path: string;
  /** The file that hides it (same name, earlier directory). */
  by: string;
  /** Whether the hiding file is a /dev/null mask. */
  byMask: boolean;
}

export interface BootAnalysis {
  key: string;
  /** The kernel's value before any config is applied. */
  kernelDefault: number;
  systemd: ReaderOutcome;
  procps: ReaderOutcome;
  /** Files hidden by a same-name file in an earlier directory. */
  shadowed: Shadowed[];
  /** Files that could not be read, with the reason. */
  unreadable: { path: string; error: string }[];
}

/** Byte-wise name order, as strcmp: digits before capitals before `_` before lower case. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The files a reader applies, in order, and those hidden by same-name files.
 *
 * @example
 * applyOrder(files, "systemd").applied.map((f) => f.path);
 */
export function applyOrder(
  files: readonly ConfigFile[],
  reader: SysctlReader,
): { applied: ConfigFile[]; shadowed: Shadowed[] } {
  const dirs: readonly string[] = reader === "systemd" ? SYSTEMD_DIRS : PROCPS_DIRS;
  const byName = new Map<string, ConfigFile>();
  const shadowed: Shadowed[] = [];
  for (const dir of dirs) {
    for (const f of files) {
      if (f.dir !== dir || f.path === SYSCTL_CONF) continue;
      const first = byName.get(f.name);
      if (first) shadowed.push({ path: f.path, by: first.path, byMask: first.masked });
      else byName.set(f.name, f);
    }
  }
  const applied = [...byName.values()]
    .filter((f) => !f.masked)
    .sort((a, b) => compareNames(a.name, b.name));
  if (reader === "procps") {
    const conf = files.find((f) => f.path === SYSCTL_CONF && !f.masked);
    if (conf) applied.push(conf);
  }
  return { applied, shadowed };
}

function outcome(
  files: readonly ConfigFile[],
  reader: SysctlReader,
  key: string,
  kernelDefault: number,
): { result: ReaderOutcome; shadowed: Shadowed[] } {
  const { applied, shadowed } = applyOrder(files, reader);
  const settings: KeySetting[] = [];
  for (const f of applied) {
    for (const a of parseSysctlConfig(f.text)) {
      if (a.key !== key) continue;
      settings.push({
        path: f.path,
        line: a.line,
        raw: a.value,
        value: parseMaxMapCountValue(a.value),
      });
    }
  }
  let winner: KeySetting | undefined;
  if (reader === "systemd") {
    // systemd keeps only the last assignment of each key and writes that one
    // (src/sysctl/sysctl.c, parse_file replaces earlier entries). If the
    // kernel refuses it, the boot-time default stays.
    winner = settings.at(-1);
  } else {
    // procps writes every assignment in turn; a refused one leaves the
    // previous value in place.
    winner = settings.findLast((s) => s.value !== undefined) ?? settings.at(-1);
  }
  const value = winner?.value ?? kernelDefault;
  return {
    result: { reader, order: applied.map((f) => f.path), settings, winner, value },
    shadowed,
  };
}

/**
 * The value `key` gets at boot from these files, for systemd-sysctl and for
 * procps `sysctl --system`, with every assignment and the winner.
 *
 * @example
 * effectiveBootValue(files).systemd.value; // 262144 when elasticsearch.conf sets it
 */
export function effectiveBootValue(
  files: readonly ConfigFile[],
  key = MAX_MAP_COUNT_KEY,
  kernelDefault = KERNEL_DEFAULT_LIMIT,
): BootAnalysis {
  const systemd = outcome(files, "systemd", key, kernelDefault);
  const procps = outcome(files, "procps", key, kernelDefault);
  // procps reads a superset of systemd's directories, so its list of hidden
  // files covers systemd's.
  return {
    key,
    kernelDefault,
    systemd: systemd.result,
    procps: procps.result,
    shadowed: procps.shadowed,
    unreadable: files.flatMap((f) => (f.error ? [{ path: f.path, error: f.error }] : [])),
  };
}

/**
 * `files` with `file` added, or replacing the file at the same path; without
 * it when `file` is a path only. For `--dry-run` and `--reset`, which judge
 * the config as it would be.
 *
 * @example
 * withFile(files, { path: "/etc/sysctl.d/90-x.conf", ... });
 */
export function withFile(files: readonly ConfigFile[], file: ConfigFile): ConfigFile[] {
  return [...files.filter((f) => f.path !== file.path), file];
}

export function withoutFile(files: readonly ConfigFile[], path: string): ConfigFile[] {
  return files.filter((f) => f.path !== path);
}

/** A reader whose boot value is not `expected`, with the setting that decides it. */
export interface Override {
  reader: SysctlReader;
  value: number;
  /** The winning assignment; undefined when the key is set nowhere (or only in a masked file). */
  winner: KeySetting | undefined;
}

/**
 * The readers that would not give `expected` at boot.
 *
 * @example
 * overridesOf(effectiveBootValue(files), 120000); // [] when our file wins everywhere
 */
export function overridesOf(analysis: BootAnalysis, expected: number): Override[] {
  return [analysis.systemd, analysis.procps]
    .filter((o) => o.value !== expected)
    .map((o) => ({ reader: o.reader, value: o.value, winner: o.winner }));
}

/**
 * A file name in /etc/sysctl.d that sorts after `name`, so a file with that
 * name is applied after it and wins.
 *
 * @example
 * laterFileName("elasticsearch.conf"); // "zz-vm_max_map_count.conf"
 */
export function laterFileName(name: string, stem = "vm_max_map_count"): string {
  const candidates = [`99-${stem}.conf`];
  for (let z = 2; z < 64; z++) candidates.push(`${"z".repeat(z)}-${stem}.conf`);
  const found = candidates.find((c) => compareNames(c, name) > 0);
  // A name starting with more than 64 z's is not worth a loop.
  return found ?? `${name.replace(/\.conf$/, "")}~${stem}.conf`;
}
