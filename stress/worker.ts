/**
 * The stress worker: the process that holds the VMAs. It runs as the hidden
 * subcommand `vmaudit __stress-worker` of the same binary and talks to the
 * harness over its stdin/stdout pipes (stress/protocol.ts).
 *
 * Its count must be exact: at every checkpoint the kernel's map_count for this
 * process equals the baseline it reported plus the mappings it created. So
 * after the baseline it allocates (almost) nothing: the pool's storage is
 * sized up front, the loop is warmed up (JIT-compiled) before the baseline,
 * a full GC runs before it, and pauses block in read(2) on the pipe instead
 * of waiting on a timer.
 */
import { readSync } from "node:fs";
import { errnoCode } from "../src/errors.ts";
import { readMaxMapCount } from "../src/proc/kernel.ts";
import { READ_BUFFER_BYTES, readMapsCount } from "../src/proc/maps.ts";
import { libc, PR_SET_PDEATHSIG, SIGKILL } from "./libc.ts";
import { formatMessage, type WorkerMessage } from "./protocol.ts";
import { VmaPool } from "./vma_pool.ts";

export interface WorkerPlan {
  /** Mappings to create. */
  target: number;
  /** Created counts to pause at, ascending; the last is `target`. */
  checkpoints: number[];
  /** After the target, keep mapping until the kernel refuses. */
  limitCheck: boolean;
  /** The worker ends itself (SIGALRM) after this many seconds. */
  timeLimitSeconds: number;
  /** The harness's pid: if our parent is already someone else, it died before prctl. */
  parentPid: number | undefined;
}

/**
 * Whole mappings given back at once when mmap fails. bun-notes.md: a Bun
 * process at the limit aborts on its next allocation, and survives when it
 * first unmaps about 256 of its own mappings.
 */
export const RELEASE_MARGIN = 256;
/** Mappings made and unmapped before the baseline, so the loop is compiled. */
const WARMUP = 3000;

/** A blocking wait for one line on stdin. False at end of file (the harness is gone). */
function waitForLine(buf: Buffer): boolean {
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if (errnoCode(err) === "EAGAIN") {
        // A non-blocking pipe: sleep 5 ms without a timer or an event loop.
        Atomics.wait(SLEEPER, 0, 0, 5);
        continue;
      }
      return false;
    }
    if (n === 0) return false;
    if (buf.indexOf(10, 0) !== -1 && buf.indexOf(10, 0) < n) return true;
  }
}
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/**
 * Run the workload. Returns the exit code.
 *
 * @example
 * runWorker({ target: 1000, checkpoints: [100, 1000], limitCheck: false, timeLimitSeconds: 60, parentPid: undefined }, io.stdout);
 */
export function runWorker(plan: WorkerPlan, send: (line: string) => void): number {
  const c = libc();
  // Die with the harness even while busy mapping (not reading the pipe).
  c.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (plan.parentPid !== undefined && process.ppid !== plan.parentPid) return 1;
  c.alarm(plan.timeLimitSeconds);
  // Ctrl-C reaches the whole process group. The harness handles it (restores
  // the limit, then kills us), so the worker must not die first. This loop
  // never yields to the event loop, so the handler never even runs.
  process.on("SIGINT", () => {});

  const say = (m: WorkerMessage) => send(formatMessage(m));
  const limit = readMaxMapCount("/proc") ?? 0;
  // Room for every mapping we may make: the target, or up to limit + 1 when
  // checking the limit (capped; the pool grows past it if ever needed).
  const capacity = Math.max(plan.target, plan.limitCheck ? Math.min(limit + 2, 1 << 24) : 0);
  const pool = new VmaPool(undefined, capacity + WARMUP);
  const mapsBuf = Buffer.alloc(READ_BUFFER_BYTES);
  const lineBuf = Buffer.alloc(64);

  // Warm up: the same calls as the real loop, then give everything back.
  for (let i = 0; i < WARMUP; i++) {
    if (!pool.mapOne().ok) break;
  }
  pool.release(pool.size);
  Bun.gc(true);

  const base = readMapsCount("/proc/self/maps", mapsBuf);
  if (base.kind !== "ok") {
    say({ kind: "error", text: `Cannot read /proc/self/maps: ${base.kind}` });
    return 1;
  }
  say({ kind: "baseline", vmas: base.vmas });
  // Pause, so the harness can check the baseline and read the slab before we map.
  if (!waitForLine(lineBuf)) return 0;

  const checkpoints = plan.checkpoints;
  const progressEvery = Math.max(1, Math.ceil(plan.target / 100));
  let created = 0;
  let nextProgress = progressEvery;
  let ci = 0;
  let nextCheckpoint = checkpoints[0] ?? plan.target;
  let mappingMs = 0;
  let t0 = performance.now();
  for (;;) {
    if (created === nextCheckpoint) {
      mappingMs += performance.now() - t0;
      say({ kind: "checkpoint", created, mappingMs });
      if (!waitForLine(lineBuf)) return 0;
      ci++;
      if (ci >= checkpoints.length) {
        if (!plan.limitCheck) {
          say({ kind: "done", created, mappingMs });
          while (waitForLine(lineBuf)) {}
          return 0;
        }
        nextCheckpoint = -1;
      } else {
        nextCheckpoint = checkpoints[ci] as number;
      }
      t0 = performance.now();
    }
    const r = pool.mapOne();
    if (!r.ok) {
      // Give back a margin before anything else: at the limit the runtime's
      // own next mapping (GC, a thread stack) would fail and abort us.
      const released = pool.release(RELEASE_MARGIN);
      mappingMs += performance.now() - t0;
      say({ kind: "refused", created, errno: r.errno, released, mappingMs });
      while (waitForLine(lineBuf)) {}
      return 0;
    }
    created++;
    if (created === nextProgress) {
      nextProgress += progressEvery;
      say({ kind: "progress", created });
    }
  }
}
