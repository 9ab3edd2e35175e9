/**
 * A journal of a temporary vm.max_map_count change, written before the change
 * so that a run killed with SIGKILL can be undone by the next one.
 * It lives in /run (tmpfs): a reboot resets the live limit and the journal
 * together.
 */
import { mkdirSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import { writeFileAtomic } from "../fs/atomic_write.ts";

export const JOURNAL_VERSION = 1;

export interface LimitJournal {
  version: typeof JOURNAL_VERSION;
  /** The limit to restore. */
  originalLimit: number;
  /** The temporary limit that was set. */
  temporaryLimit: number;
  /** The process that made the change. */
  pid: number;
  command: string;
  startedAt: string;
}

/** /run/vmaudit, or VMAUDIT_RUN_DIR (for tests). */
export function runDir(env: Record<string, string | undefined> = process.env): string {
  return env.VMAUDIT_RUN_DIR || "/run/vmaudit";
}

export function journalPath(dir = runDir()): string {
  return join(dir, "limit-journal.json");
}

/** Record the change to be undone. Call before changing the limit. */
export function writeJournal(entry: LimitJournal, dir = runDir()): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(journalPath(dir), `${JSON.stringify(entry, null, 2)}\n`, 0o600);
}

/** The journal exists but this user may not read it (not root). */
export class JournalAccessError extends ExitError {
  constructor(path: string, code: string) {
    super(EXIT_FAILURE, `Cannot read the limit journal "${path}" (${code}): it belongs to root`);
    this.name = "JournalAccessError";
  }
}

/** The journal, or undefined when there is none. A corrupt one is an error. */
export function readJournal(dir = runDir()): LimitJournal | undefined {
  const path = journalPath(dir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = errnoCode(err);
    if (code === "ENOENT") return undefined;
    if (code === "EACCES" || code === "EPERM") throw new JournalAccessError(path, code);
    throw new ExitError(EXIT_FAILURE, `Cannot read the limit journal "${path}": ${code}`);
  }
  try {
    const j = JSON.parse(text) as LimitJournal;
    if (j.version === JOURNAL_VERSION && Number.isInteger(j.originalLimit) && j.originalLimit > 0)
      return j;
  } catch {
    // fall through
  }
  throw new ExitError(
    EXIT_FAILURE,
    `The limit journal "${path}" is corrupt: check vm.max_map_count by hand, then delete it`,
  );
}

export function removeJournal(dir = runDir()): void {
  try {
    unlinkSync(journalPath(dir));
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
}

/**
 * A one-line warning while a journal exists, for `scan` and `apply`; undefined
 * when there is none or it cannot be read.
 */
export function journalWarning(dir = runDir()): string | undefined {
  let j: LimitJournal | undefined;
  try {
    j = readJournal(dir);
  } catch (err) {
    // /run/vmaudit is root's (0700): a user who cannot read it could not act
    // on it either, and a scan must not open with an EACCES warning.
    if (err instanceof JournalAccessError) return undefined;
    return err instanceof Error ? err.message : String(err);
  }
  if (!j) return undefined;
  return `vm.max_map_count was set to ${j.temporaryLimit} by '${j.command}' (pid ${j.pid}, ${j.startedAt}), which did not finish; the original value was ${j.originalLimit}. The next 'sudo vmaudit stress' restores it (journal: ${journalPath(dir)})`;
}
