/**
 * Which sysctl config decides vm.max_map_count at boot. Pure: it works on
 * the directory entries already read (see `config_files.ts`), so tests and
 * `--dry-run` can add or remove a file in memory.
 *
 * Each tool is simulated write by write, and the kernel's reading of each
 * write decides (`kernel_int.ts`). What systemd-sysctl 252
 * (src/basic/conf-files.c, src/sysctl/sysctl.c) and procps 4.0.2
 * `sysctl --system` (sysctl.c) do:
 * - each lists the `*.conf` entries of its directories; the first entry of a
 *   name, in directory priority order, hides the others of that name,
 *   whatever it is: a file, a /dev/null link, a directory, a dangling link.
 *   systemd skips hidden names (`.x.conf`); procps reads them;
 * - the survivors are sorted by name, byte by byte, whatever their
 *   directory. An entry that is not a readable file sets nothing;
 * - procps globs each entry's path before opening it, so `5*.conf` also
 *   reads `50-x.conf` (see `glob.ts`), then reads /etc/sysctl.conf last if
 *   it is a regular file; systemd never reads it;
 * - systemd keeps one assignment per key, the last (a `-key` line without a
 *   value cancels it), and writes each key once; a glob key writes the keys
 *   it matches that no line names;
 * - procps writes every assignment, in order; a glob writes each match whose
 *   path no other line names exactly;
 * - the kernel refuses some writes; then the previous value stays.
 * Checked against both real tools by test/sysctl_differential.test.ts.
 */
import { KERNEL_DEFAULT_LIMIT } from "../core/kernel_limits.ts";
import {
  type ByteString,
  byteString,
  bytesOf,
  type Directive,
  displayText,
  isGlob,
  MAX_MAP_COUNT_KEY,
  MAX_MAP_COUNT_PATH_KEY,
  parseProcpsConfig,
  parseSystemdConfig,
} from "./config.ts";
import { expandConfName, globProcSys, isMaxMapCountPath } from "./glob.ts";
import { kernelParseMaxMapCount } from "./kernel_int.ts";

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

/**
 * What a directory entry is, after following links inside the root:
 * `file` a regular file, `null` /dev/null (a mask: empty), `directory`,
 * `missing` a dangling or looping link, `other` anything else (a FIFO, a
 * device) or unreadable.
 */
export type EntryKind = "file" | "null" | "directory" | "missing" | "other";

/** One `*.conf` entry (or /etc/sysctl.conf) as found on the target system. */
export interface ConfigFile {
  /** The path on the target system (without any --root prefix), as text. */
  path: string;
  /** Its directory, one of PROCPS_DIRS, or "/etc" for /etc/sysctl.conf. */
  dir: string;
  /** The file name as text (invalid UTF-8 shows as U+FFFD). */
  name: string;
  /** The file name's bytes: names sort and match byte by byte. */
  nameBytes: Uint8Array;
  kind: EntryKind;
  /** The content of a `file`; empty otherwise. */
  data: Uint8Array;
  /** Why the entry could not be read, if it could not. */
  error?: string;
}

/**
 * A file that exists only in memory (for `--dry-run`).
 *
 * @example
 * memoryConfigFile("/etc/sysctl.d", "90-x.conf", "vm.max_map_count = 1\n");
 */
export function memoryConfigFile(dir: string, name: string, text: string): ConfigFile {
  return {
    path: `${dir}/${name}`,
    dir,
    name,
    nameBytes: Buffer.from(name),
    kind: "file",
    data: Buffer.from(text),
  };
}

/** One line that assigns, cancels or excludes vm.max_map_count (or a glob matching it). */
export interface KeySetting {
  path: string;
  line: number;
  /** The key as written, with its leading `-` if it has one (`vm.max_map_*`, `-vm.max_map_count`). */
  key: string;
  /** The value the tool writes, without the newline it adds; null for a line that only cancels or excludes. */
  raw: string | null;
  /** The value as the kernel takes it, or undefined when it refuses it (or there is none). */
  value: number | undefined;
  /**
   * Whether the tool writes it. False when a later line replaces or cancels
   * it (systemd), or when a line naming the key keeps a glob off it.
   */
  written: boolean;
}

export interface ReaderOutcome {
  reader: SysctlReader;
  /** The files this reader reads, in order (procps may read one twice). */
  order: string[];
  /** Every line about the key, in the order read. */
  settings: KeySetting[];
  /**
   * The setting that decides the value: the last written one the kernel
   * takes; when the kernel takes none, the last written one (refused);
   * undefined when nothing is written.
   */
  winner: KeySetting | undefined;
  /** The value after this reader has run at boot. */
  value: number;
}

export interface Shadowed {
  path: string;
  /** The entry that hides it (same name, earlier directory). */
  by: string;
  /** Whether the hiding entry is a /dev/null mask. */
  byMask: boolean;
  /** What the hiding entry is: a directory or a dangling link hides too. */
  byKind: EntryKind;
}

export interface BootAnalysis {
  key: string;
  /** The kernel's value before any config is applied. */
  kernelDefault: number;
  systemd: ReaderOutcome;
  procps: ReaderOutcome;
  /** Entries hidden by a same-name entry in an earlier directory. */
  shadowed: Shadowed[];
  /** Entries that could not be read, with the reason. */
  unreadable: { path: string; error: string }[];
}

/** Byte-wise name order, as strcmp: digits before capitals before `_` before lower case. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function compareBytes(a: ConfigFile, b: ConfigFile): number {
  return Buffer.compare(Buffer.from(a.nameBytes), Buffer.from(b.nameBytes));
}

function nameKey(f: ConfigFile): ByteString {
  return byteString(f.nameBytes);
}

/** Whether a reader lists this name: `*.conf`, and for systemd not hidden. */
function listedBy(reader: SysctlReader, name: ByteString): boolean {
  if (!name.endsWith(".conf")) return false;
  return reader === "procps" || !name.startsWith(".");
}

/**
 * The entries a reader opens, in order (before procps's glob of each path;
 * without /etc/sysctl.conf), and those hidden by same-name entries.
 *
 * @example
 * applyOrder(files, "systemd").applied.map((f) => f.path);
 */
export function applyOrder(
  files: readonly ConfigFile[],
  reader: SysctlReader,
): { applied: ConfigFile[]; shadowed: Shadowed[] } {
  const dirs: readonly string[] = reader === "systemd" ? SYSTEMD_DIRS : PROCPS_DIRS;
  const byName = new Map<ByteString, ConfigFile>();
  const shadowed: Shadowed[] = [];
  for (const dir of dirs) {
    for (const f of files) {
      if (f.dir !== dir || f.path === SYSCTL_CONF || !listedBy(reader, nameKey(f))) continue;
      const first = byName.get(nameKey(f));
      if (first) {
        shadowed.push({
          path: f.path,
          by: first.path,
          byMask: first.kind === "null",
          byKind: first.kind,
        });
      } else {
        byName.set(nameKey(f), f);
      }
    }
  }
  return { applied: [...byName.values()].sort(compareBytes), shadowed };
}

/** A line about the key, before the display strings are made. */
interface Found {
  file: ConfigFile;
  directive: Directive;
  written: boolean;
}

/** What a reader does: the files it reads, the lines about the key, and its writes to the key. */
export interface Simulation {
  reader: SysctlReader;
  read: ConfigFile[];
  found: Found[];
  /** Each write(2) to /proc/sys/vm/max_map_count, byte for byte, with the line it comes from. */
  writes: { found: number; bytes: Uint8Array }[];
}

function text(f: ConfigFile): ByteString {
  return f.kind === "file" ? byteString(f.data) : "";
}

function write(sim: Simulation, found: number, value: ByteString): void {
  const f = sim.found[found];
  if (f) f.written = true;
  sim.writes.push({ found, bytes: bytesOf(`${value}\n`) });
}

function simulateSystemd(files: readonly ConfigFile[]): Simulation {
  const sim: Simulation = { reader: "systemd", read: [], found: [], writes: [] };
  // The ordered hashmap of sysctl.c: a changed assignment moves to the end.
  const options = new Map<ByteString, { value: ByteString | null; found: number | undefined }>();
  for (const f of applyOrder(files, "systemd").applied) {
    if (f.kind !== "file") continue;
    sim.read.push(f);
    for (const d of parseSystemdConfig(text(f)).directives) {
      const about =
        d.key === MAX_MAP_COUNT_PATH_KEY ||
        (isGlob(d.key) && globProcSys(`/proc/sys/${d.key}`).length > 0);
      const found = about
        ? sim.found.push({ file: f, directive: d, written: false }) - 1
        : undefined;
      const existing = options.get(d.key);
      // The same value again changes nothing, not even the position.
      if (existing && existing.value === d.value) continue;
      options.delete(d.key);
      options.set(d.key, { value: d.value, found });
    }
  }
  for (const [key, opt] of options) {
    if (opt.value === null || opt.found === undefined) continue;
    if (!isGlob(key)) {
      write(sim, opt.found, opt.value);
      continue;
    }
    // A glob sets only keys that no line names, not even a "-key" line.
    for (const match of globProcSys(`/proc/sys/${key}`)) {
      const matchKey = match.slice("/proc/sys".length).replace(/^\/+/, "");
      if (!options.has(matchKey)) write(sim, opt.found, opt.value);
    }
  }
  return sim;
}

function simulateProcps(files: readonly ConfigFile[]): Simulation {
  const sim: Simulation = { reader: "procps", read: [], found: [], writes: [] };
  const nodes: { directive: Directive; found: number | undefined }[] = [];
  const readFile = (f: ConfigFile) => {
    sim.read.push(f);
    for (const d of parseProcpsConfig(text(f))) {
      const about =
        d.value === null || !isGlob(d.key)
          ? isMaxMapCountPath(d.key)
          : globProcSys(d.key).length > 0;
      const found = about
        ? sim.found.push({ file: f, directive: d, written: false }) - 1
        : undefined;
      nodes.push({ directive: d, found });
    }
  };
  for (const entry of applyOrder(files, "procps").applied) {
    const siblings = files.filter((f) => f.dir === entry.dir && f.path !== SYSCTL_CONF);
    for (const name of expandConfName(nameKey(entry), siblings.map(nameKey))) {
      const f = siblings.find((s) => nameKey(s) === name);
      // fopen() failed: procps gives up the rest of this entry's glob.
      if (!f || f.kind === "missing" || f.kind === "other") break;
      if (f.kind === "file") readFile(f);
    }
  }
  const conf = files.find((f) => f.path === SYSCTL_CONF);
  if (conf?.kind === "file") readFile(conf);

  for (const { directive: d, found } of nodes) {
    if (d.value === null || found === undefined) continue;
    if (!isGlob(d.key)) {
      write(sim, found, d.value);
      continue;
    }
    // A glob match is skipped when any line's path is exactly that string.
    for (const match of globProcSys(d.key)) {
      if (!nodes.some((n) => n.directive.key === match)) write(sim, found, d.value);
    }
  }
  return sim;
}

/**
 * Every write a reader makes to vm.max_map_count, byte for byte, with the
 * files it reads and the lines about the key.
 *
 * @example
 * simulateReader(files, "procps").writes.map((w) => String(w.bytes)); // ["262144\n"]
 */
export function simulateReader(files: readonly ConfigFile[], reader: SysctlReader): Simulation {
  return reader === "systemd" ? simulateSystemd(files) : simulateProcps(files);
}

function outcome(sim: Simulation, kernelDefault: number): ReaderOutcome {
  const settings: KeySetting[] = sim.found.map(({ file, directive: d, written }) => ({
    path: file.path,
    line: d.line,
    key: `${d.ignoreFailure || d.value === null ? "-" : ""}${displayText(d.rawKey)}`,
    raw: d.value === null ? null : displayText(d.value),
    value: d.value === null ? undefined : kernelParseMaxMapCount(bytesOf(`${d.value}\n`)),
    written,
  }));
  let value = kernelDefault;
  let winner: KeySetting | undefined;
  let refused: KeySetting | undefined;
  for (const w of sim.writes) {
    const v = kernelParseMaxMapCount(w.bytes);
    if (v === undefined) {
      refused = settings[w.found];
    } else {
      value = v;
      winner = settings[w.found];
      refused = undefined;
    }
  }
  return {
    reader: sim.reader,
    order: sim.read.map((f) => f.path),
    settings,
    winner: winner ?? refused,
    value,
  };
}

/**
 * The value vm.max_map_count gets at boot from these files, for
 * systemd-sysctl and for procps `sysctl --system`, with every line about
 * the key and the winner.
 *
 * @example
 * effectiveBootValue(files).systemd.value; // 262144 when elasticsearch.conf sets it
 */
export function effectiveBootValue(
  files: readonly ConfigFile[],
  kernelDefault = KERNEL_DEFAULT_LIMIT,
): BootAnalysis {
  // procps reads a superset of systemd's directories and names, so its
  // list of hidden entries covers systemd's.
  return {
    key: MAX_MAP_COUNT_KEY,
    kernelDefault,
    systemd: outcome(simulateSystemd(files), kernelDefault),
    procps: outcome(simulateProcps(files), kernelDefault),
    shadowed: applyOrder(files, "procps").shadowed,
    unreadable: files.flatMap((f) => (f.error ? [{ path: f.path, error: f.error }] : [])),
  };
}

/**
 * `files` with `file` added, or replacing the file at the same path; without
 * it when `file` is a path only. For `--dry-run` and `--reset`, which judge
 * the config as it would be.
 *
 * @example
 * withFile(files, memoryConfigFile("/etc/sysctl.d", "90-x.conf", "vm.max_map_count = 1\n"));
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
  /** The deciding setting; undefined when nothing writes the key. */
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
