/**
 * A temporary vm.max_map_count, as one transaction: journal, set, run,
 * restore. `vmaudit stress --limit`, the check tests and bench/stress.ts all
 * change the limit through it, so the order that makes a kill harmless is
 * written once:
 *
 * 1. the journal first (limit/journal.ts): if the process dies between the
 *    steps, the next `vmaudit stress` restores a value that may never have
 *    changed, which is harmless;
 * 2. set the new value and read it back (limit/live.ts);
 * 3. run the body;
 * 4. restore the original whether the body returned or threw, read it back,
 *    and only then remove the journal (kept when the restore failed, so the
 *    next run retries).
 *
 * Signals are the caller's: `stress` turns SIGINT/SIGTERM into an error of
 * its body, so step 4 runs for them too. After a SIGKILL the journal is what
 * is left.
 */
import { EXIT_FAILURE, ExitError } from "../errors.ts";
import { readMaxMapCount } from "../proc/kernel.ts";
import { journalPath, readJournal, removeJournal, writeJournal } from "./journal.ts";
import { setMaxMapCount } from "./live.ts";

export interface RestoreResult {
  value: number;
  readBack: number | null;
  ok: boolean;
  error: string | null;
}

export interface TemporaryLimitOptions {
  procfs: string;
  /** Where the journal goes (/run/vmaudit, or VMAUDIT_RUN_DIR). */
  runDir: string;
  /** Who changed the limit, as the journal and `scan`'s warning show it. */
  command: string;
  /** The value to restore; the live value when left out. */
  original?: number;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** How the body ended, and how the restore went. */
export interface TemporaryLimitRun<T> {
  outcome: Settled<T>;
  restore: RestoreResult;
}

/**
 * Run `body` with vm.max_map_count at `value`, then restore it. Throws,
 * changing nothing, when the live value cannot be read, a journal of another
 * run is still there (its original value would be lost), or the journal
 * cannot be written. Everything after the journal is reported, not thrown.
 *
 * @example
 * const run = await withTemporaryLimit(120000, { procfs: "/proc", runDir: "/run/vmaudit", command: "bench" }, () => work());
 * resultOf(run); // work()'s value, or its error, or the restore's
 */
export async function withTemporaryLimit<T>(
  value: number,
  opts: TemporaryLimitOptions,
  body: () => T | Promise<T>,
): Promise<TemporaryLimitRun<T>> {
  const original = opts.original ?? readMaxMapCount(opts.procfs);
  if (original === undefined)
    throw new ExitError(EXIT_FAILURE, `Cannot read "${opts.procfs}/sys/vm/max_map_count"`);
  if (readJournal(opts.runDir))
    throw new ExitError(
      EXIT_FAILURE,
      `A limit journal of an unfinished run is in "${journalPath(opts.runDir)}": run 'sudo vmaudit stress' to restore its value first`,
    );
  writeJournal(
    {
      version: 1,
      originalLimit: original,
      temporaryLimit: value,
      pid: process.pid,
      command: opts.command,
      startedAt: new Date().toISOString(),
    },
    opts.runDir,
  );
  let outcome: Settled<T>;
  try {
    setMaxMapCount(value, opts.procfs);
    outcome = { ok: true, value: await body() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  return { outcome, restore: restoreLimit(original, opts) };
}

/**
 * The body's value; or its error, thrown; or, when the body ended well but
 * the restore failed, an error saying so.
 *
 * @example
 * resultOf(await withTemporaryLimit(70000, opts, () => 42)); // 42
 */
export function resultOf<T>(run: TemporaryLimitRun<T>): T {
  if (!run.outcome.ok) throw run.outcome.error;
  if (!run.restore.ok)
    throw new ExitError(
      EXIT_FAILURE,
      `Restoring vm.max_map_count to ${run.restore.value} failed (${run.restore.error})`,
    );
  return run.outcome.value;
}

/** Set the original back, read it back, then remove the journal. */
function restoreLimit(value: number, opts: TemporaryLimitOptions): RestoreResult {
  try {
    setMaxMapCount(value, opts.procfs);
    const readBack = readMaxMapCount(opts.procfs) ?? null;
    if (readBack !== value) throw new Error(`read back ${readBack}`);
    removeJournal(opts.runDir);
    return { value, readBack, ok: true, error: null };
  } catch (err) {
    return {
      value,
      readBack: readMaxMapCount(opts.procfs) ?? null,
      ok: false,
      error: err instanceof Error ? err.message : String(err),
    };
  }
}
