/**
 * The peaks file: the highest VMA count seen per application, written by
 * `watch --save FILE` and read by `scan --peaks FILE` (and `apply --peaks`
 * through the shared recommend flags). Versioned JSON with a `kind` marker, so
 * a foreign or corrupt file is recognised and never overwritten.
 */
import { closeSync, lstatSync, mkdirSync, openSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PID_MAX_LIMIT } from "../core/kernel_limits.ts";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import { assertRegularOrAbsent, writeFileAtomic } from "../fs/atomic_write.ts";
import { describeReadCode, readRegularFile } from "../fs/read_regular.ts";

export const PEAKS_KIND = "vmaudit-peaks";
export const PEAKS_SCHEMA_VERSION = 1;
/** A peaks file is ~150 bytes per application: 64 MiB is far more than any real one. */
export const PEAKS_MAX_BYTES = 64 << 20;

/** The highest count one process of an application reached. */
export interface PeakEntry {
  app: string;
  vmas: number;
  /** The process that reached it (pids are reused: informative only). */
  pid: number;
  /** ISO time the peak was seen. */
  seenAt: string;
}

export interface PeaksFile {
  kind: typeof PEAKS_KIND;
  schemaVersion: typeof PEAKS_SCHEMA_VERSION;
  updatedAt: string;
  /** Sorted by vmas descending, then app. */
  applications: PeakEntry[];
}

/**
 * The most VMAs one process can have: the limit is a C int (at most
 * 2147483647) and a process that only calls mmap reaches limit + 1.
 */
export const MAX_PEAK_VMAS = 2 ** 31;

/**
 * What is wrong with one entry, or undefined when it is a valid one. Counts
 * must be safe integers in range: `1e300` parses as an integer in JSON but is
 * no count of anything.
 */
function entryProblem(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return "is not an object";
  const o = e as Record<string, unknown>;
  if (typeof o.app !== "string") return 'has no "app" string';
  if (!Number.isSafeInteger(o.vmas) || (o.vmas as number) < 0 || (o.vmas as number) > MAX_PEAK_VMAS)
    return `has "vmas" ${JSON.stringify(o.vmas)}, expected a whole number from 0 to ${MAX_PEAK_VMAS}`;
  if (!Number.isSafeInteger(o.pid) || (o.pid as number) < 1 || (o.pid as number) > PID_MAX_LIMIT)
    return `has "pid" ${JSON.stringify(o.pid)}, expected a whole number from 1 to ${PID_MAX_LIMIT}`;
  if (typeof o.seenAt !== "string") return 'has no "seenAt" string';
  return undefined;
}

/**
 * Parse and validate the text of a peaks file; throws an ExitError (exit 1)
 * naming the file and what is wrong.
 *
 * @example
 * parsePeaksFile('{"kind":"vmaudit-peaks","schemaVersion":1,"updatedAt":"","applications":[]}', "p.json");
 */
export function parsePeaksFile(text: string, path: string): PeaksFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ExitError(EXIT_FAILURE, `Cannot use peaks file "${path}": it is not valid JSON`);
  }
  const o = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  if (o.kind !== PEAKS_KIND) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot use peaks file "${path}": it is not a vmaudit peaks file (expected "kind": "${PEAKS_KIND}")`,
    );
  }
  if (o.schemaVersion !== PEAKS_SCHEMA_VERSION) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot use peaks file "${path}": schemaVersion ${JSON.stringify(o.schemaVersion)} is not supported (expected ${PEAKS_SCHEMA_VERSION})`,
    );
  }
  if (!Array.isArray(o.applications)) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot use peaks file "${path}": "applications" must be a list of { app, vmas, pid, seenAt }`,
    );
  }
  o.applications.forEach((e, i) => {
    const problem = entryProblem(e);
    if (problem)
      throw new ExitError(
        EXIT_FAILURE,
        `Cannot use peaks file "${path}": applications[${i}] ${problem}, so the file is corrupt`,
      );
  });
  return {
    kind: PEAKS_KIND,
    schemaVersion: PEAKS_SCHEMA_VERSION,
    updatedAt: typeof o.updatedAt === "string" ? o.updatedAt : "",
    // Rebuilt field by field: anything else in an entry is dropped, never written back.
    applications: (o.applications as PeakEntry[]).map(({ app, vmas, pid, seenAt }) => ({
      app,
      vmas,
      pid,
      seenAt,
    })),
  };
}

/**
 * Read a peaks file. Missing: undefined when `missingOk`, else an error.
 */
export function readPeaksFile(path: string, missingOk = false): PeaksFile | undefined {
  let text: string;
  try {
    text = readRegularFile(path, PEAKS_MAX_BYTES, { followLinks: true }).toString("utf8");
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT" && missingOk) return undefined;
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot read peaks file "${path}": ${code ? describeReadCode(code) : String(err)}${code === "ENOENT" ? " (record one with 'vmaudit watch --save FILE')" : ""}`,
    );
  }
  return parsePeaksFile(text, path);
}

/**
 * Merge peak entries: per application, the higher count wins (the earlier
 * sighting on a tie).
 *
 * @example
 * mergePeaks([{ app: "a", vmas: 5, pid: 1, seenAt: "t1" }], [{ app: "a", vmas: 7, pid: 2, seenAt: "t2" }])[0]?.vmas; // 7
 */
export function mergePeaks(old: readonly PeakEntry[], fresh: readonly PeakEntry[]): PeakEntry[] {
  const byApp = new Map<string, PeakEntry>();
  for (const e of [...old, ...fresh]) {
    const have = byApp.get(e.app);
    if (!have || e.vmas > have.vmas) byApp.set(e.app, { ...e });
  }
  return [...byApp.values()].sort(
    (a, b) => b.vmas - a.vmas || (a.app < b.app ? -1 : a.app > b.app ? 1 : 0),
  );
}

/** The highest entry of a file, or undefined when it is empty. */
export function highestPeak(file: PeaksFile): PeakEntry | undefined {
  return mergePeaks([], file.applications)[0];
}

/**
 * The file to write: `fresh` merged into what the file held.
 *
 * @example
 * buildPeaksFile(undefined, [], new Date(0)).applications; // []
 */
export function buildPeaksFile(
  old: PeaksFile | undefined,
  fresh: readonly PeakEntry[],
  now: Date,
): PeaksFile {
  return {
    kind: PEAKS_KIND,
    schemaVersion: PEAKS_SCHEMA_VERSION,
    updatedAt: now.toISOString(),
    applications: mergePeaks(old?.applications ?? [], fresh),
  };
}

/** The text of a peaks file. */
export function renderPeaksFile(file: PeaksFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Merge `fresh` into the file at `path` and write it atomically. A corrupt or
 * foreign file is an error and is left untouched.
 */
export function savePeaks(path: string, fresh: readonly PeakEntry[], now: Date): PeaksFile {
  const file = buildPeaksFile(readPeaksFile(path, true), fresh, now);
  writeFileAtomic(path, renderPeaksFile(file));
  return file;
}

/**
 * Make sure `watch --save FILE` can write FILE at the end, before an hour of
 * sampling starts: FILE must be absent or a valid peaks file, its folder is
 * created when missing (mode 0755, as `/var/lib/vmaudit` for the README's
 * example), and a probe file is created and removed in it. Returns the
 * folders it created.
 *
 * @example
 * prepareSave("/var/lib/vmaudit/peaks.json"); // ["/var/lib/vmaudit"] the first time
 */
export function prepareSave(path: string): string[] {
  const dir = dirname(resolve(path));
  const created = createFolders(dir, path);
  assertRegularOrAbsent(path);
  readPeaksFile(path, true);
  const probe = join(dir, `.${basename(path)}.vmaudit-probe-${process.pid}.tmp`);
  try {
    closeSync(openSync(probe, "wx", 0o600));
    unlinkSync(probe);
  } catch (err) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot save peaks to "${path}": cannot create a file in "${dir}" (${errnoCode(err) ?? String(err)})`,
    );
  }
  return created;
}

/**
 * mkdir -p with mode 0755 exactly (the umask cleared for the call), for the
 * missing folders only. A folder that appears meanwhile must be a real
 * folder, not a symlink planted in the race.
 */
function createFolders(dir: string, path: string): string[] {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (!statSync(d).isDirectory())
        throw new ExitError(EXIT_FAILURE, `Cannot save peaks to "${path}": "${d}" is not a folder`);
      break;
    } catch (err) {
      if (errnoCode(err) !== "ENOENT" || dirname(d) === d) throw asSaveError(err, path, d);
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    const umask = process.umask(0);
    try {
      mkdirSync(d, 0o755);
    } catch (err) {
      const raced = errnoCode(err) === "EEXIST" && isRealFolder(d);
      if (!raced) throw asSaveError(err, path, d);
    } finally {
      process.umask(umask);
    }
  }
  return missing;
}

function isRealFolder(d: string): boolean {
  const st = lstatSync(d);
  return st.isDirectory() && !st.isSymbolicLink();
}

function asSaveError(err: unknown, path: string, d: string): ExitError {
  if (err instanceof ExitError) return err;
  return new ExitError(
    EXIT_FAILURE,
    `Cannot save peaks to "${path}": cannot create the folder "${d}" (${errnoCode(err) ?? String(err)})`,
  );
}
