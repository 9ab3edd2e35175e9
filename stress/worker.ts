/**
 * The stress worker: the process that holds the VMAs. It runs as the hidden
 * subcommand `vmaudit __stress-worker` of the same binary and talks to the
 * harness over its stdin/stdout pipes (stress/contract.ts).
 *
 * Its count must be exact: at every checkpoint the kernel's map_count for this
 * process equals the baseline it reported plus the mappings it created. The
 * runtime must therefore add or drop no mapping of its own after the
 * baseline. Measured causes of drift, and what keeps each away:
 * - new runtime threads (each adds a stack and a guard page): the harness
 *   starts the worker with concurrent JIT and concurrent GC off
 *   (WORKER_JSC_ENV in src/stress/worker_process.ts), so no JIT worker or
 *   collector thread starts late;
 * - heap or compiler memory growing mid-run: the loop allocates nothing (the
 *   pool's storage is sized up front, messages are encoded into one reused
 *   buffer), the same loop code is run and compiled before the baseline, and
 *   a full GC runs right before it;
 * - timers: pauses block in read(2) on the pipe.
 */
import { readSync, writeSync } from "node:fs";
import { errnoCode } from "../src/errors.ts";
import { readMaxMapCount } from "../src/proc/kernel.ts";
import { READ_BUFFER_BYTES, readMapsCount } from "../src/proc/maps.ts";
import { formatMessage, MessageEncoder, type WorkerPlan } from "./contract.ts";
import { libc, PR_SET_PDEATHSIG, SIGKILL } from "./libc.ts";
import { VmaPool } from "./vma_pool.ts";

/**
 * Whole mappings given back at once when mmap fails. bun-notes.md: a Bun
 * process at the limit aborts on its next allocation, and survives when it
 * first unmaps about 256 of its own mappings.
 */
export const RELEASE_MARGIN = 256;
/** Mappings made and unmapped before the baseline, so the loop is compiled. */
const WARMUP = 5000;
const NO_STOP = Number.MAX_SAFE_INTEGER;

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `buf[0, len)` to stdout; false when the harness is gone. */
function writeOut(buf: Buffer, len: number): boolean {
  let off = 0;
  while (off < len) {
    try {
      off += writeSync(1, buf, off, len - off);
    } catch (err) {
      if (errnoCode(err) !== "EAGAIN") return false;
      Atomics.wait(SLEEPER, 0, 0, 1);
    }
  }
  return true;
}

/** A blocking wait for one line on stdin. False at end of file (the harness is gone). */
function waitForLine(buf: Buffer): boolean {
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      if (errnoCode(err) === "EAGAIN") {
        // A non-blocking pipe: sleep without a timer or an event loop.
        Atomics.wait(SLEEPER, 0, 0, 5);
        continue;
      }
      return false;
    }
    if (n === 0) return false;
    const nl = buf.indexOf(10);
    if (nl !== -1 && nl < n) return true;
  }
}

/** The state of a mapping run, kept in one object so the loop allocates nothing. */
class Run {
  created = 0;
  /** errno of the refused mmap, 0 while none. */
  refusedErrno = 0;
  constructor(
    readonly pool: VmaPool,
    readonly enc: MessageEncoder,
    readonly progressEvery: number,
    readonly quiet: boolean,
  ) {}
}

/**
 * Map until `stopAt` mappings were created or mmap fails. Progress lines go
 * out every `progressEvery`. Returns true when stopped at `stopAt`.
 * The warm-up runs this same function, so it is compiled before the baseline.
 */
function mapUntil(run: Run, stopAt: number): boolean {
  const pool = run.pool;
  let created = run.created;
  while (created < stopAt) {
    const r = pool.mapOne();
    if (!r.ok) {
      run.created = created;
      run.refusedErrno = r.errno;
      return false;
    }
    created++;
    if (created % run.progressEvery === 0 && !run.quiet) {
      writeOut(run.enc.buffer, run.enc.encode("progress", created));
    }
  }
  run.created = created;
  return true;
}

/**
 * Run the workload. Returns the exit code.
 *
 * @example
 * runWorker({ target: 1000, checkpoints: [100, 1000], limitCheck: false, timeLimitSeconds: 60, parentPid: undefined });
 */
export function runWorker(plan: WorkerPlan): number {
  const c = libc();
  // Die with the harness even while busy mapping (not reading the pipe).
  c.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (plan.parentPid !== undefined && process.ppid !== plan.parentPid) return 1;
  c.alarm(plan.timeLimitSeconds);
  // Ctrl-C reaches the whole process group. The harness handles it (restores
  // the limit, then kills us), so the worker must not die first. This code
  // never yields to the event loop, so the handler never even runs.
  process.on("SIGINT", () => {});

  const limit = readMaxMapCount("/proc") ?? 0;
  // Room for every mapping we may make: the target, or up to limit + 1 when
  // checking the limit (capped; the pool grows past it if ever needed).
  const capacity = Math.max(plan.target, plan.limitCheck ? Math.min(limit + 2, 1 << 24) : 0);
  const pool = new VmaPool(undefined, Math.max(capacity, WARMUP));
  const enc = new MessageEncoder();
  const mapsBuf = Buffer.alloc(READ_BUFFER_BYTES);
  const lineBuf = Buffer.alloc(64);
  const progressEvery = Math.max(1, Math.ceil(plan.target / 100));

  // Warm up: the same function as the real run, then give everything back.
  const warm = new Run(pool, enc, 1000, true);
  mapUntil(warm, WARMUP);
  pool.release(pool.size);
  Bun.gc(true);

  const base = readMapsCount("/proc/self/maps", mapsBuf);
  if (base.kind !== "ok") {
    const line = formatMessage({
      kind: "error",
      text: `Cannot read /proc/self/maps: ${base.kind}`,
    });
    writeOut(Buffer.from(line), Buffer.byteLength(line));
    return 1;
  }
  const baseline = base.vmas;
  writeOut(enc.buffer, enc.encode("baseline", baseline));
  // Pause, so the harness can check the baseline and read the slab before we map.
  if (!waitForLine(lineBuf)) return 0;

  const run = new Run(pool, enc, progressEvery, false);
  let mappingUs = 0;
  for (let i = 0; i <= plan.checkpoints.length; i++) {
    const stopAt = i < plan.checkpoints.length ? (plan.checkpoints[i] as number) : NO_STOP;
    if (stopAt === NO_STOP && !plan.limitCheck) {
      writeOut(enc.buffer, enc.encode("done", run.created, Math.round(mappingUs)));
      break;
    }
    const t0 = performance.now();
    const reached = mapUntil(run, stopAt);
    if (!reached) {
      // Give back a margin before anything else: at the limit the runtime's
      // own next mapping (GC, a thread stack) would fail and abort us.
      const released = pool.release(RELEASE_MARGIN);
      mappingUs += (performance.now() - t0) * 1000;
      const len = enc.encode(
        "refused",
        run.created,
        run.refusedErrno,
        released,
        Math.round(mappingUs),
      );
      writeOut(enc.buffer, len);
      break;
    }
    mappingUs += (performance.now() - t0) * 1000;
    writeOut(enc.buffer, enc.encode("checkpoint", run.created, Math.round(mappingUs)));
    if (!waitForLine(lineBuf)) return 0;
  }
  // Hold what we have until the harness closes the pipe.
  while (waitForLine(lineBuf)) {}
  return 0;
}
