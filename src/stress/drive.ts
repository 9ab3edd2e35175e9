/**
 * Driving the worker: spawn it, check its baseline, let it map to each
 * checkpoint and time scans of its maps there, take the slab, RSS and a
 * full scan at the target, and judge the kernel's refusal when it maps on to
 * the limit. What it learns goes into one state object; the result is the
 * body of the stress report.
 */
import type { WorkerMessage, WorkerPlan } from "../../stress/contract.ts";
import { EXIT_FAILURE, ExitError } from "../errors.ts";
import { readMaxMapCount, readVmaSlab, type SlabRead } from "../proc/kernel.ts";
import { READ_BUFFER_BYTES, readMapsCount } from "../proc/maps.ts";
import { readRssBytes } from "../proc/process.ts";
import { invokingUser } from "../proc/users.ts";
import { busiestOf, scanForBusiest } from "../scan/scan_system.ts";
import type { StressContext } from "./context.ts";
import type { InterruptWatch } from "./interrupts.ts";
import { checkpointCounts, judgeLimit, type StressOptions, suggestApply } from "./plan.ts";
import type {
  CheckpointResult,
  FullScan,
  LimitCheckResult,
  SlabGrowth,
  StressReport,
} from "./report.ts";
import { timeMapsScans } from "./scan_timing.ts";
import { spawnWorker, type WorkerHandle } from "./worker_process.ts";

export type RunBody = Omit<
  StressReport,
  "schemaVersion" | "generatedAt" | "target" | "settings" | "journalRecovery" | "limit" | "exitCode"
>;

/** Everything a run learns, filled in as the worker's messages come. */
interface DriveState {
  baseline: number;
  baselineExact: boolean;
  /** Mappings created so far, and the time the worker spent mapping them. */
  created: number;
  mappingMs: number;
  checkpoints: CheckpointResult[];
  targetReached: boolean;
  slab: SlabGrowth | null;
  fullScan: FullScan | null;
  rssBytes: number | null;
  /** VMAs the worker had added when RSS was read. */
  rssAtVmasAdded: number;
  limitCheck: LimitCheckResult | null;
  /** Why the slab could not be read before mapping, or null. */
  slabUnavailable: string | null;
  warnings: string[];
}

/** The worker and the reads of its maps, with one buffer for all of them. */
interface Probe {
  worker: WorkerHandle;
  mapsPath: string;
  buf: Buffer;
  small: Buffer;
}

/**
 * Spawn the worker and walk it through its checkpoints to the end. The
 * worker is stopped before this returns or throws.
 *
 * @example
 * const { limitDuring, body } = await driveWorker(opts, ctx, interrupts, (w) => (worker = w));
 */
export async function driveWorker(
  opts: StressOptions,
  ctx: StressContext,
  interrupts: InterruptWatch,
  started: (w: WorkerHandle) => void,
): Promise<{ limitDuring: number; body: RunBody }> {
  const limitDuring = readMaxMapCount(ctx.procfs) ?? 0;
  const plan: WorkerPlan = {
    target: opts.target,
    checkpoints: checkpointCounts(opts.target, opts.checkpointPercents),
    limitCheck: opts.limitCheck,
    timeLimitSeconds: opts.timeLimitSeconds,
    parentPid: process.pid,
  };
  const worker = spawnWorker(plan);
  started(worker);
  // A signal that came before the worker existed kills it now.
  if (interrupts.signal()) worker.kill();
  try {
    const probe: Probe = {
      worker,
      mapsPath: `${ctx.procfs}/${worker.pid}/maps`,
      buf: Buffer.alloc(READ_BUFFER_BYTES),
      small: Buffer.alloc(16 * 1024),
    };
    const state = await run(opts, ctx, interrupts, probe, limitDuring);
    return { limitDuring, body: reportBody(opts, state, worker.pid) };
  } finally {
    await worker.stop();
  }
}

async function run(
  opts: StressOptions,
  ctx: StressContext,
  interrupts: InterruptWatch,
  probe: Probe,
  limitDuring: number,
): Promise<DriveState> {
  const next = () => nextMessage(probe.worker, interrupts, opts);
  const first = await next();
  if (first.kind !== "baseline") {
    throw new ExitError(
      EXIT_FAILURE,
      `The stress worker did not start: ${first.kind === "error" ? first.text : first.kind}`,
    );
  }
  const slabBefore = readVmaSlab(ctx.procfs);
  const state: DriveState = {
    baseline: first.vmas,
    baselineExact: (await whileAlive(probe, opts, () => countNow(probe))) === first.vmas,
    created: 0,
    mappingMs: 0,
    checkpoints: [],
    targetReached: false,
    slab: null,
    fullScan: null,
    rssBytes: null,
    rssAtVmasAdded: 0,
    limitCheck: null,
    slabUnavailable: slabBefore.ok ? null : slabBefore.reason,
    warnings: [],
  };
  probe.worker.resume();

  for (;;) {
    const m = await next();
    if (m.kind === "progress") {
      ctx.onProgress?.(m.created, opts.target);
      continue;
    }
    if (m.kind === "error")
      throw new ExitError(EXIT_FAILURE, `The stress worker failed: ${m.text}`);
    // Only one baseline comes, before mapping; another would mean nothing.
    if (m.kind === "baseline") continue;
    state.created = m.created;
    state.mappingMs = m.mappingUs / 1000;
    if (m.kind === "done") break;
    if (m.kind === "checkpoint") {
      await atCheckpoint(state, m.created, opts, probe);
      if (m.created === opts.target) {
        state.targetReached = true;
        atPeak(state, m.created, ctx, probe, slabBefore);
      }
      interrupts.check();
      probe.worker.resume();
      continue;
    }
    if (m.kind === "refused") {
      await atRefusal(state, m, { opts, ctx, probe, limitDuring });
      if (!state.targetReached) atPeak(state, m.created - m.released, ctx, probe, slabBefore);
      break;
    }
  }
  if (!state.targetReached && !state.limitCheck) {
    throw new ExitError(
      EXIT_FAILURE,
      "The stress worker stopped before the target without a refusal",
    );
  }
  return state;
}

/** The next message; an interrupt or the worker's early end becomes the error. */
async function nextMessage(
  worker: WorkerHandle,
  interrupts: InterruptWatch,
  opts: StressOptions,
): Promise<WorkerMessage> {
  const m = await worker.next();
  if (m) return m;
  interrupts.check();
  // The signal may be on its way (Ctrl-C hits the whole group).
  await Bun.sleep(50);
  interrupts.check();
  return workerGone(worker, opts);
}

/** The worker ended on its own: say how. */
async function workerGone(worker: WorkerHandle, opts: StressOptions): Promise<never> {
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
}

/** Run a read of the worker's maps; if it fails because the worker died, say that instead. */
async function whileAlive<T>(probe: Probe, opts: StressOptions, read: () => T): Promise<T> {
  try {
    return read();
  } catch (err) {
    const ended = await Promise.race([
      probe.worker.exited.then(() => true),
      Bun.sleep(500).then(() => false),
    ]);
    if (ended) return workerGone(probe.worker, opts);
    throw err;
  }
}

/** The worker's map_count now, counted by the harness. */
function countNow(probe: Probe): number {
  const r = readMapsCount(probe.mapsPath, probe.buf);
  if (r.kind !== "ok")
    throw new ExitError(EXIT_FAILURE, `Cannot read "${probe.mapsPath}": ${r.kind}`);
  return r.vmas;
}

/** At a pause: time --repeat scans and check every count is exact. */
async function atCheckpoint(
  state: DriveState,
  created: number,
  opts: StressOptions,
  probe: Probe,
): Promise<void> {
  const timing = await whileAlive(probe, opts, () =>
    timeMapsScans(probe.mapsPath, opts.repeat, probe.buf),
  );
  const { vmas, ...scan } = timing;
  const expectedVmas = state.baseline + created;
  state.checkpoints.push({
    percent: (created / opts.target) * 100,
    created,
    expectedVmas,
    vmas: vmas[0] as number,
    exact: vmas.every((v) => v === expectedVmas),
    scan,
  });
}

/** At the target (or the highest count reached): slab growth, RSS and a full scan. */
function atPeak(
  state: DriveState,
  held: number,
  ctx: StressContext,
  probe: Probe,
  slabBefore: SlabRead,
): void {
  const slabAfter = readVmaSlab(ctx.procfs);
  if (slabBefore.ok && slabAfter.ok) {
    const added = slabAfter.slab.activeObjects - slabBefore.slab.activeObjects;
    const objsize = slabAfter.slab.objsize;
    state.slab = {
      objsize,
      activeBefore: slabBefore.slab.activeObjects,
      activeAfter: slabAfter.slab.activeObjects,
      objectsAdded: added,
      bytesAdded: added * objsize,
      bytesPerVma: held > 0 ? (added * objsize) / held : 0,
      workerVmasAdded: held,
    };
  }
  state.rssBytes = readRssBytes(ctx.procfs, probe.worker.pid, probe.small) ?? null;
  state.rssAtVmasAdded = held;
  const t0 = performance.now();
  const scan = scanForBusiest(ctx.procfs, {
    anonymizeUser: invokingUser(ctx.env),
    leaveOut: [probe.worker.pid],
  });
  state.fullScan = {
    workerVmas: state.baseline + held,
    wallMs: performance.now() - t0,
    processCount: scan.processCount,
    totalVmas: scan.totalVmas,
    busiest: busiestOf(scan) ?? null,
  };
}

/** mmap failed: judge where against the kernel's rule, and check the count after the give-back. */
async function atRefusal(
  state: DriveState,
  m: Extract<WorkerMessage, { kind: "refused" }>,
  at: { opts: StressOptions; ctx: StressContext; probe: Probe; limitDuring: number },
): Promise<void> {
  const { opts, ctx, probe, limitDuring } = at;
  const limitNow = readMaxMapCount(ctx.procfs) ?? limitDuring;
  if (limitNow !== limitDuring) {
    state.warnings.push(
      `vm.max_map_count changed from ${limitDuring} to ${limitNow} during the run (someone else set it): the limit check is not meaningful`,
    );
  }
  const afterReleaseVmas = await whileAlive(probe, opts, () => countNow(probe));
  const afterReleaseExpected = state.baseline + m.created - m.released;
  state.limitCheck = {
    ...judgeLimit({
      limit: limitNow,
      baseline: state.baseline,
      created: m.created,
      errno: m.errno,
    }),
    released: m.released,
    afterReleaseVmas,
    afterReleaseExpected,
    exact: afterReleaseVmas === afterReleaseExpected,
  };
}

/** The report's body from the state of a finished run. */
function reportBody(opts: StressOptions, state: DriveState, pid: number): RunBody {
  const limitCheck = state.limitCheck;
  const allExact =
    state.baselineExact && state.checkpoints.every((c) => c.exact) && (limitCheck?.exact ?? true);
  return {
    worker: {
      pid,
      baseline: state.baseline,
      baselineExact: state.baselineExact,
      rssBytes: state.rssBytes,
      rssAtVmasAdded: state.rssAtVmasAdded,
    },
    checkpoints: state.checkpoints,
    allExact,
    targetReached: state.targetReached,
    creation: {
      created: state.created,
      mappingMs: state.mappingMs,
      vmasPerSecond: state.mappingMs > 0 ? (state.created / state.mappingMs) * 1000 : 0,
    },
    slab: state.slab,
    slabUnavailable: state.slabUnavailable,
    fullScan: state.fullScan,
    limitCheck,
    honored: limitCheck ? limitCheck.honored && limitCheck.exact : null,
    suggestion:
      !state.targetReached && opts.limit === undefined
        ? suggestApply(opts.target, state.baseline)
        : null,
    warnings: state.warnings,
  };
}
