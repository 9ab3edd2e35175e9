/**
 * `vmaudit stress` as a whole: the refusals that change nothing, recovery
 * from a killed run's journal, the temporary limit (limit/temporary.ts)
 * around driving the worker (drive.ts), SIGINT/SIGTERM (interrupts.ts), and
 * the report with its exit code. The limit is restored on every way out.
 */
import { EXIT_FAILURE, EXIT_NEEDS_ROOT, ExitError } from "../errors.ts";
import { guardBelowPeak, guardHighValue } from "../limit/guards.ts";
import { type Settled, type TemporaryLimitRun, withTemporaryLimit } from "../limit/temporary.ts";
import { readMaxMapCount, readVmaSlab } from "../proc/kernel.ts";
import { findBusiest } from "../scan/scan_system.ts";
import type { StressContext } from "./context.ts";
import { driveWorker, type RunBody } from "./drive.ts";
import { Interrupted, interruptExitCode, watchInterrupts } from "./interrupts.ts";
import { STRESS_FORCE_THRESHOLD, type StressOptions, stressExitCode } from "./plan.ts";
import { recoverFromJournal } from "./recovery.ts";
import { STRESS_SCHEMA_VERSION, type StressReport } from "./report.ts";
import type { WorkerHandle } from "./worker_process.ts";

/**
 * Refusals that change nothing: values above 2,000,000 (and a limit check
 * that would map that many), and --limit without root.
 */
function runGuards(opts: StressOptions, ctx: StressContext, original: number): void {
  const slab = readVmaSlab(ctx.procfs);
  const objsize = slab.ok ? slab.slab.objsize : undefined;
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

type Driven = { limitDuring: number; body: RunBody };

async function settle<T>(body: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Run a whole stress session and return its report. Throws ExitError for
 * refusals (exit 2, nothing changed), missing root (77), failures (1) and
 * interrupts (130 for SIGINT, 143 for SIGTERM), always after restoring the limit.
 *
 * @example
 * const report = await runStress(stressRequest(options), ctx);
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
      busiest: findBusiest(ctx.procfs),
      force: opts.force,
    });
  }

  let worker: WorkerHandle | undefined;
  const interrupts = watchInterrupts(() => worker?.kill());
  const drive = () =>
    driveWorker(opts, ctx, interrupts, (w) => {
      worker = w;
    });
  let run: TemporaryLimitRun<Driven> | { outcome: Settled<Driven>; restore: null };
  try {
    run =
      opts.limit === undefined
        ? { outcome: await settle(drive), restore: null }
        : await withTemporaryLimit(
            opts.limit,
            {
              procfs: ctx.procfs,
              runDir: ctx.runDir,
              command: `vmaudit stress --target ${opts.target} --limit ${opts.limit}`,
              original: startLimit,
            },
            drive,
          );
  } finally {
    interrupts.dispose();
  }

  const { outcome, restore } = run;
  const restored = restore
    ? restore.ok
      ? `vm.max_map_count restored to ${restore.value}`
      : `RESTORING vm.max_map_count TO ${restore.value} FAILED (${restore.error}); the journal in ${ctx.runDir} is kept, so the next 'sudo vmaudit stress' retries`
    : "";
  if (!outcome.ok) {
    const failure = outcome.error;
    if (failure instanceof Interrupted) {
      throw new ExitError(
        interruptExitCode(failure.signal),
        `Interrupted by ${failure.signal}: the worker was stopped${restored ? `, ${restored}` : ""}`,
      );
    }
    if (restored) ctx.notice(`vmaudit: ${restored}`);
    throw failure;
  }
  const { limitDuring, body } = outcome.value;
  const report: StressReport = {
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
      during: limitDuring,
      restore,
    },
    ...body,
    exitCode: 0,
  };
  if (restore && !restore.ok) {
    report.warnings.push(restored);
    report.exitCode = EXIT_FAILURE;
  } else {
    report.exitCode = stressExitCode({
      honored: report.honored,
      allExact: report.allExact,
      targetReached: report.targetReached,
      limitGiven: opts.limit !== undefined,
    });
  }
  return report;
}
