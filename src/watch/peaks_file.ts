/**
 * The peaks file: the highest VMA count seen per application, written by
 * `watch --save FILE` and read by `scan --peaks FILE` (and `apply --peaks`
 * through the shared recommend flags). Versioned JSON with a `kind` marker, so
 * a foreign or corrupt file is recognised and never overwritten.
 */
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic_write.ts";
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

function isEntry(e: unknown): e is PeakEntry {
  if (typeof e !== "object" || e === null) return false;
  const o = e as Record<string, unknown>;
  return (
    typeof o.app === "string" &&
    Number.isInteger(o.vmas) &&
    (o.vmas as number) >= 0 &&
    Number.isInteger(o.pid) &&
    typeof o.seenAt === "string"
  );
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
  if (!Array.isArray(o.applications) || !o.applications.every(isEntry)) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot use peaks file "${path}": "applications" must be a list of { app, vmas, pid, seenAt }`,
    );
  }
  return {
    kind: PEAKS_KIND,
    schemaVersion: PEAKS_SCHEMA_VERSION,
    updatedAt: typeof o.updatedAt === "string" ? o.updatedAt : "",
    applications: o.applications,
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
 * Merge `fresh` into the file at `path` and write it atomically. A corrupt or
 * foreign file is an error and is left untouched.
 */
export function savePeaks(path: string, fresh: readonly PeakEntry[], now: Date): PeaksFile {
  const old = readPeaksFile(path, true);
  const file: PeaksFile = {
    kind: PEAKS_KIND,
    schemaVersion: PEAKS_SCHEMA_VERSION,
    updatedAt: now.toISOString(),
    applications: mergePeaks(old?.applications ?? [], fresh),
  };
  writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
  return file;
}
