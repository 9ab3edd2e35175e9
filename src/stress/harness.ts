/**
 * The I/O half of `vmaudit stress`: recover a journal left by a killed run,
 * guard and set a temporary limit (journal first), drive the worker through
 * its checkpoints, time scans of its maps, and restore the limit on every
 * way out (normal end, error, SIGINT, SIGTERM).
 */
import type { WorkerPlan } from "../../stress/contract.ts";
import { median } from "../core/median.ts";
import { EXIT_FAILURE, EXIT_NEEDS_ROOT, ExitError } from "../errors.ts";
import {
  type BusiestProcess,
  guardBelowPeak,
  guardHighValue,
  guardLimitRange,
} from "../limit/guards.ts";
import {
  journalPath,
  type LimitJournal,
  readJournal,
  removeJournal,
  writeJournal,
} from "../limit/journal.ts";
import { setMaxMapCount } from "../limit/live.ts";
import { readMaxMapCount, readVmaSlab, type SlabRead } from "../proc/kernel.ts";
import { READ_BUFFER_BYTES, readMapsCount } from "../proc/maps.ts";
import { readArgv, readRssBytes } from "../proc/process.ts";
import { invokingUser } from "../proc/users.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { busiestOf, scanForBusiest } from "../scan/scan_system.ts";
import {
  type ApplySuggestion,
  checkpointCounts,
  judgeLimit,
  type LimitVerdict,
  STRESS_FORCE_THRESHOLD,
  type StressOptions,
  stressExitCode,
  suggestApply,
} from "./plan.ts";
import { spawnWorker, type WorkerHandle } from "./worker_process.ts";

export const STRESS_SCHEMA_VERSION = 1;

export interface ScanTiming {
  repeat: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** medianMs x 1000 / vmas. */
  usPerVma: number;
  /** Bytes of maps text per read. */
  bytes: number;
}

export interface CheckpointResult {
  percent: number;
  created: number;
  /** The worker's baseline plus `created`. */
  expectedVmas: number;
  /** The kernel's map_count for the worker, counted by the harness. */
  vmas: number;
  exact: boolean;
  scan: ScanTiming;
}

export interface SlabGrowth {
  objsize: number;
  activeBefore: number;
  activeAfter: number;
  objectsAdded: number;
  bytesAdded: number;
  /** bytesAdded / VMAs the worker added; other processes add noise. */
  bytesPerVma: number;
  /** VMAs the worker had added when the second reading was taken. */
  workerVmasAdded: number;
}

export interface FullScan {
  /** VMAs the worker held during the scan. */
  workerVmas: number;
  wallMs: number;
  processCount: number;
  totalVmas: number;
  busiest: BusiestProcess | null;
}

export interface RestoreResult {
  value: number;
  readBack: number | null;
  ok: boolean;
  error: string | null;
}

export interface JournalRecovery {
  restoredLimit: number;
  temporaryLimit: number;
  pid: number;
  command: string;
  startedAt: string;
}

export interface LimitCheckResult extends LimitVerdict {
  /** Whole mappings the worker gave back right after the refusal. */
  released: number;
  /** The harness's count after the give-back, and what it should be. */
  afterReleaseVmas: number;
  afterReleaseExpected: number;
  exact: boolean;
}

export interface StressReport {
  schemaVersion: typeof STRESS_SCHEMA_VERSION;
  generatedAt: string;
  target: number;
  settings: {
    checkpoints: number[];
    repeat: number;
    limitCheck: boolean;
    timeLimitSeconds: number;
    force: boolean;
  };
  journalRecovery: JournalRecovery | null;
  limit: {
    original: number;
    requested: number | null;
    /** The live value while the worker mapped. */
    during: number;
    restore: RestoreResult | null;
  };
  worker: {
    pid: number;
    baseline: number;
    baselineExact: boolean;
    rssBytes: number | null;
    /** VMAs the worker had added when RSS was read. */
    rssAtVmasAdded: number;
  };
  checkpoints: CheckpointResult[];
  allExact: boolean;
  targetReached: boolean;
  creation: { created: number; mappingMs: number; vmasPerSecond: number };
  slab: SlabGrowth | null;
  slabUnavailable: string | null;
  fullScan: FullScan | null;
  limitCheck: LimitCheckResult | null;
  /** null when the limit was not checked (--no-limit-check and the target was reached). */
  honored: boolean | null;
  /** Set when the target was not reachable and no --limit was given. */
  suggestion: ApplySuggestion | null;
  warnings: string[];
  exitCode: number;
}

export interface StressContext {
  procfs: string;
  runDir: string;
  env: Record<string, string | undefined>;
  isRoot: boolean;
  /** Progress while mapping (created so far). */
  onProgress?: (created: number, target: number) => void;
  /** One-line notices for stderr (journal recovery, restore after an error). */
  notice: (line: string) => void;
}

/** Thrown inside the run when SIGINT or SIGTERM arrives. */
class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(signal);
  }
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

/**
 * Time `repeat` reads of one maps file with scan's own counting code.
 *
 * @example
 * timeMapsScans("/proc/self/maps", 5, Buffer.alloc(1 << 20)).medianMs;
 */
export function timeMapsScans(
  path: string,
  repeat: number,
  buf: Buffer,
): ScanTiming & { vmas: number[] } {
  const ms: number[] = [];
  const vmas: number[] = [];
  let bytes = 0;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const r = readMapsCount(path, buf);
    ms.push(performance.now() - t0);
    if (r.kind !== "ok") throw new ExitError(EXIT_FAILURE, `Cannot read "${path}": ${r.kind}`);
    vmas.push(r.vmas);
    bytes = r.bytes;
  }
  const medianMs = median(ms);
  return {
    repeat,
    medianMs,
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    usPerVma: (medianMs * 1000) / (vmas[0] ?? 1),
    bytes,
    vmas,
  };
}

/** Whether `pid` is a live `vmaudit stress` (not a zombie, not a reused pid). */
function isStressRunning(procfs: string, pid: number): boolean {
  if (pid === process.pid) return false;
  const argv = readArgv(procfs, pid, Buffer.alloc(4096));
  return argv.some((a) => a === "stress");
}

/** The busiest process of a fresh scan, for the below-peak guard. */
function scanBusiest(procfs: string): BusiestProcess | undefined {
  return busiestOf(scanForBusiest(procfs));
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
  guardBelowPeak({ what, value: j.originalLimit, busiest: scanBusiest(ctx.procfs), force });
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

function slabObjsize(slab: SlabRead): number | undefined {
  return slab.ok ? slab.slab.objsize : undefined;
}

/**
 * Refusals that change nothing: values above 2,000,000 (and a limit check
 * that would map that many), and a --limit below a running process's count.
 */
function runGuards(opts: StressOptions, ctx: StressContext, original: number): void {
  const objsize = slabObjsize(readVmaSlab(ctx.procfs));
  const high = (what: string, value: number) =>
    guardHighValue({ what, value, threshold: STRESS_FORCE_THRESHOLD, objsize, force: opts.force });
  high(`--target ${opts.target}`, opts.target);
  if (opts.limit !== undefined) high(`--limit ${opts.limit}`, opts.limit);
  else if (opts.limitCheck) {
    high(`the limit check at vm.max_map_count ${original} (it maps until the limit)`, original);
  }
  if (opts.limit !== undefined && !ctx.isRoot) {
    throw new ExitError(
      EXIT_NEEDS_ROOT,
      `Cannot use --limit ${opts.limit}: changing vm.max_map_count needs root (run with sudo)`,
    );
  }
}

/**
 * Run a whole stress session and return its report. Throws ExitError for
 * refusals (exit 2, nothing changed), missing root (77), failures (1) and
 * interrupts (130 for SIGINT, 143 for SIGTERM), always after restoring the limit.
 *
 * @example
 * const report = await runStress(parseStressOptions({ target: "20000" }), ctx);
 */
export async function runStress(opts: StressOptions, ctx: StressContext): Promise<StressReport> {
  const original = readMaxMapCount(ctx.procfs);
  if (original === undefined) {
    throw new ExitError(EXIT_FAILURE, `Cannot read "${ctx.procfs}/sys/vm/max_map_count"`);
  }
  runGuards(opts, ctx, original);
  const journalRecovery = recoverFromJournal(ctx, opts.force);
  const startLimit = readMaxMapCount(ctx.procfs) ?? original;
  if (opts.limit !== undefined) {
    guardBelowPeak({
      what: `--limit ${opts.limit}`,
      value: opts.limit,
      busiest: scanBusiest(ctx.procfs),
      force: opts.force,
    });
  }

  let interrupted: NodeJS.Signals | undefined;
  let worker: WorkerHandle | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted ??= sig;
    worker?.kill();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let changed = false;
  let restore: RestoreResult | null = null;
  let failure: unknown;
  let report: StressReport | undefined;
  try {
    if (opts.limit !== undefined) {
      // The journal first: if we are killed between the two steps, the next
      // run restores a value that was never changed, which is harmless.
      writeJournal(
        {
          version: 1,
          originalLimit: startLimit,
          temporaryLimit: opts.limit,
          pid: process.pid,
          command: `vmaudit stress --target ${opts.target} --limit ${opts.limit}`,
          startedAt: new Date().toISOString(),
        },
        ctx.runDir,
      );
      changed = true;
      setMaxMapCount(opts.limit, ctx.procfs);
    }
    const run = await driveWorker(
      opts,
      ctx,
      (w) => {
        worker = w;
        if (interrupted) w.kill();
      },
      () => interrupted,
    );
    report = {
      schemaVersion: STRESS_SCHEMA_VERSION,
      generatedAt: new Date().toISOString(),
      target: opts.target,
      settings: {
        checkpoints: opts.checkpointPercents,
        repeat: opts.repeat,
        limitCheck: opts.limitCheck,
        timeLimitSeconds: opts.timeLimitSeconds,
        force: opts.force,
      },
      journalRecovery,
      limit: {
        original: startLimit,
        requested: opts.limit ?? null,
        during: run.limitDuring,
        restore: null,
      },
      ...run.body,
      exitCode: 0,
    };
  } catch (err) {
    failure = err;
  } finally {
    await (worker as WorkerHandle | undefined)?.stop();
    if (changed) restore = restoreLimit(startLimit, ctx);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  const restored = restore
    ? restore.ok
      ? `vm.max_map_count restored to ${restore.value}`
      : `RESTORING vm.max_map_count TO ${restore.value} FAILED (${restore.error}); the journal in ${ctx.runDir} is kept, so the next 'sudo vmaudit stress' retries`
    : "";
  if (failure instanceof Interrupted) {
    throw new ExitError(
      128 + (SIGNAL_NUMBERS[failure.signal] ?? 0),
      `Interrupted by ${failure.signal}: the worker was stopped${restored ? `, ${restored}` : ""}`,
    );
  }
  if (failure !== undefined) {
    if (restored) ctx.notice(`vmaudit: ${restored}`);
    throw failure;
  }
  const r = report as StressReport;
  r.limit.restore = restore;
  if (restore && !restore.ok) {
    r.warnings.push(restored);
    r.exitCode = EXIT_FAILURE;
  } else {
    r.exitCode = stressExitCode({
      honored: r.honored,
      allExact: r.allExact,
      targetReached: r.targetReached,
      limitGiven: opts.limit !== undefined,
    });
  }
  return r;
}

function restoreLimit(value: number, ctx: StressContext): RestoreResult {
  try {
    setMaxMapCount(value, ctx.procfs);
    const readBack = readMaxMapCount(ctx.procfs) ?? null;
    if (readBack !== value) throw new Error(`read back ${readBack}`);
    removeJournal(ctx.runDir);
    return { value, readBack, ok: true, error: null };
  } catch (err) {
    return {
      value,
      readBack: readMaxMapCount(ctx.procfs) ?? null,
      ok: false,
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

type RunBody = Omit<
  StressReport,
  "schemaVersion" | "generatedAt" | "target" | "settings" | "journalRecovery" | "limit" | "exitCode"
>;

/** Spawn the worker and walk it through its checkpoints to the end. */
async function driveWorker(
  opts: StressOptions,
  ctx: StressContext,
  started: (w: WorkerHandle) => void,
  interrupted: () => NodeJS.Signals | undefined,
): Promise<{ limitDuring: number; body: RunBody }> {
  const limitDuring = readMaxMapCount(ctx.procfs) ?? 0;
  const counts = checkpointCounts(opts.target, opts.checkpointPercents);
  const plan: WorkerPlan = {
    target: opts.target,
    checkpoints: counts,
    limitCheck: opts.limitCheck,
    timeLimitSeconds: opts.timeLimitSeconds,
    parentPid: process.pid,
  };
  const worker = spawnWorker(plan);
  started(worker);
  const buf = Buffer.alloc(READ_BUFFER_BYTES);
  const small = Buffer.alloc(16 * 1024);
  const mapsPath = `${ctx.procfs}/${worker.pid}/maps`;
  const warnings: string[] = [];

  const next = async () => {
    const m = await worker.next();
    if (m) return m;
    const sig = interrupted();
    if (sig) throw new Interrupted(sig);
    // The signal may be on its way (Ctrl-C hits the whole group).
    await Bun.sleep(50);
    const late = interrupted();
    if (late) throw new Interrupted(late);
    return workerGone();
  };
  /** The worker ended on its own: say how. */
  const workerGone = async (): Promise<never> => {
    const code = await worker.exited;
    const signal = worker.signalCode();
    const err = (await worker.stderrText()).split("\n")[0];
    const why =
      signal === "SIGALRM"
        ? `its --time-limit of ${opts.timeLimitSeconds} s ran out`
        : signal
          ? `killed by ${signal}`
          : `exit code ${code}`;
    throw new ExitError(
      EXIT_FAILURE,
      `The stress worker (pid ${worker.pid}) ended early (${why})${err ? `: ${err}` : ""}`,
    );
  };
  /** Run a read of the worker's maps; if it fails because the worker died, say that instead. */
  const whileAlive = async <T>(read: () => T): Promise<T> => {
    try {
      return read();
    } catch (err) {
      const ended = await Promise.race([
        worker.exited.then(() => true),
        Bun.sleep(500).then(() => false),
      ]);
      if (ended) return workerGone();
      throw err;
    }
  };
  const countNow = () => {
    const r = readMapsCount(mapsPath, buf);
    if (r.kind !== "ok") throw new ExitError(EXIT_FAILURE, `Cannot read "${mapsPath}": ${r.kind}`);
    return r.vmas;
  };

  const first = await next();
  if (first.kind !== "baseline") {
    throw new ExitError(
      EXIT_FAILURE,
      `The stress worker did not start: ${first.kind === "error" ? first.text : first.kind}`,
    );
  }
  const baseline = first.vmas;
  const baselineExact = (await whileAlive(countNow)) === baseline;
  const slabBefore = readVmaSlab(ctx.procfs);
  worker.resume();

  const checkpoints: CheckpointResult[] = [];
  let slab: SlabGrowth | null = null;
  let fullScan: FullScan | null = null;
  let rssBytes: number | null = null;
  let rssAtVmasAdded = 0;
  let created = 0;
  let mappingMs = 0;
  let limitCheck: LimitCheckResult | null = null;
  let targetReached = false;

  // At the target (or the highest count reached): slab, RSS and a full scan.
  const atPeak = (held: number) => {
    const slabAfter = readVmaSlab(ctx.procfs);
    if (slabBefore.ok && slabAfter.ok) {
      const added = slabAfter.slab.activeObjects - slabBefore.slab.activeObjects;
      const objsize = slabAfter.slab.objsize;
      slab = {
        objsize,
        activeBefore: slabBefore.slab.activeObjects,
        activeAfter: slabAfter.slab.activeObjects,
        objectsAdded: added,
        bytesAdded: added * objsize,
        bytesPerVma: held > 0 ? (added * objsize) / held : 0,
        workerVmasAdded: held,
      };
    }
    rssBytes = readRssBytes(ctx.procfs, worker.pid, small) ?? null;
    rssAtVmasAdded = held;
    const t0 = performance.now();
    const scan = scanForBusiest(ctx.procfs, {
      anonymizeUser: invokingUser(ctx.env),
      leaveOut: [worker.pid],
    });
    fullScan = {
      workerVmas: baseline + held,
      wallMs: performance.now() - t0,
      processCount: scan.processCount,
      totalVmas: scan.totalVmas,
      busiest: busiestOf(scan) ?? null,
    };
  };

  for (;;) {
    const m = await next();
    if (m.kind === "progress") {
      ctx.onProgress?.(m.created, opts.target);
      continue;
    }
    if (m.kind === "checkpoint") {
      created = m.created;
      mappingMs = m.mappingUs / 1000;
      const timing = await whileAlive(() => timeMapsScans(mapsPath, opts.repeat, buf));
      const { vmas, ...scan } = timing;
      const expectedVmas = baseline + m.created;
      checkpoints.push({
        percent: (m.created / opts.target) * 100,
        created: m.created,
        expectedVmas,
        vmas: vmas[0] as number,
        exact: vmas.every((v) => v === expectedVmas),
        scan,
      });
      if (m.created === opts.target) {
        targetReached = true;
        atPeak(m.created);
      }
      if (interrupted()) throw new Interrupted(interrupted() as NodeJS.Signals);
      worker.resume();
      continue;
    }
    if (m.kind === "done") {
      created = m.created;
      mappingMs = m.mappingUs / 1000;
      break;
    }
    if (m.kind === "refused") {
      created = m.created;
      mappingMs = m.mappingUs / 1000;
      const limitNow = readMaxMapCount(ctx.procfs) ?? limitDuring;
      if (limitNow !== limitDuring) {
        warnings.push(
          `vm.max_map_count changed from ${limitDuring} to ${limitNow} during the run (someone else set it): the limit check is not meaningful`,
        );
      }
      const afterReleaseVmas = await whileAlive(countNow);
      const afterReleaseExpected = baseline + m.created - m.released;
      limitCheck = {
        ...judgeLimit({ limit: limitNow, baseline, created: m.created, errno: m.errno }),
        released: m.released,
        afterReleaseVmas,
        afterReleaseExpected,
        exact: afterReleaseVmas === afterReleaseExpected,
      };
      if (!targetReached) atPeak(m.created - m.released);
      break;
    }
    if (m.kind === "error")
      throw new ExitError(EXIT_FAILURE, `The stress worker failed: ${m.text}`);
  }

  const allExact =
    baselineExact && checkpoints.every((c) => c.exact) && (limitCheck?.exact ?? true);
  if (!targetReached && !limitCheck) {
    throw new ExitError(
      EXIT_FAILURE,
      "The stress worker stopped before the target without a refusal",
    );
  }
  const honored = limitCheck ? limitCheck.honored && (limitCheck.exact as boolean) : null;
  return {
    limitDuring,
    body: {
      worker: { pid: worker.pid, baseline, baselineExact, rssBytes, rssAtVmasAdded },
      checkpoints,
      allExact,
      targetReached,
      creation: {
        created,
        mappingMs,
        vmasPerSecond: mappingMs > 0 ? (created / mappingMs) * 1000 : 0,
      },
      slab,
      slabUnavailable: slabBefore.ok ? null : slabBefore.reason,
      fullScan,
      limitCheck,
      honored,
      suggestion:
        !targetReached && opts.limit === undefined ? suggestApply(opts.target, baseline) : null,
      warnings,
    },
  };
}
