/**
 * Recovery from a stress run that was killed (SIGKILL) while its temporary
 * limit was set: the journal it left says what to restore.
 */
import { EXIT_FAILURE, EXIT_NEEDS_ROOT, ExitError } from "../errors.ts";
import { guardBelowPeak, guardLimitRange } from "../limit/guards.ts";
import { journalPath, type LimitJournal, readJournal, removeJournal } from "../limit/journal.ts";
import { setMaxMapCount } from "../limit/live.ts";
import { readArgv } from "../proc/process.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { findBusiest } from "../scan/scan_system.ts";
import type { StressContext } from "./context.ts";
import type { JournalRecovery } from "./report.ts";

/** Whether `pid` is a live `vmaudit stress` (not a zombie, not a reused pid). */
function isStressRunning(procfs: string, pid: number): boolean {
  if (pid === process.pid) return false;
  const argv = readArgv(procfs, pid, Buffer.alloc(4096));
  return argv.some((a) => a === "stress");
}

/**
 * Undo a change left by a run that was killed (SIGKILL, power loss of the
 * process): restore the journal's original limit, then remove the journal.
 * The journal is read only where no other user could have written it
 * (limit/journal.ts), and the value it holds passes the same guards as
 * `apply`: 1 to INT_MAX, and not below a running process's VMA count
 * without --force.
 */
export function recoverFromJournal(ctx: StressContext, force = false): JournalRecovery | null {
  let j: LimitJournal | undefined;
  try {
    j = readJournal(ctx.runDir);
  } catch (err) {
    // /run/vmaudit is root's (0700): without root there is nothing we could
    // restore anyway, and a run without --limit changes nothing.
    if (!ctx.isRoot) return null;
    throw err;
  }
  if (!j) return null;
  if (isStressRunning(ctx.procfs, j.pid)) {
    throw new ExitError(
      EXIT_FAILURE,
      `Another 'vmaudit stress' (pid ${j.pid}) is running and has set vm.max_map_count to ${j.temporaryLimit}: wait for it to finish`,
    );
  }
  if (!ctx.isRoot) {
    throw new ExitError(
      EXIT_NEEDS_ROOT,
      `An unfinished 'vmaudit stress' left vm.max_map_count at ${j.temporaryLimit} (journal: ${ctx.runDir}); restoring ${j.originalLimit} needs root`,
    );
  }
  const what = `to restore vm.max_map_count to ${j.originalLimit} from the journal "${journalPath(ctx.runDir)}"`;
  guardLimitRange({ what, value: j.originalLimit });
  guardBelowPeak({ what, value: j.originalLimit, busiest: findBusiest(ctx.procfs), force });
  setMaxMapCount(j.originalLimit, ctx.procfs);
  removeJournal(ctx.runDir);
  ctx.notice(
    `vmaudit: restored vm.max_map_count to ${j.originalLimit} from the journal of an unfinished run ('${escapeControl(j.command)}', pid ${j.pid}, ${escapeControl(j.startedAt)}), which had set ${j.temporaryLimit}`,
  );
  return {
    restoredLimit: j.originalLimit,
    temporaryLimit: j.temporaryLimit,
    pid: j.pid,
    command: j.command,
    startedAt: j.startedAt,
  };
}
