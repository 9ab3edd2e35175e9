/**
 * The recommendation engine: from the largest VMA count a process reaches (the
 * peak) to a value for vm.max_map_count. Pure.
 */
import { INT_MAX, KERNEL_DEFAULT_LIMIT } from "./kernel_limits.ts";

/** Values 65531..65535 sit in the 5 slots the ELF core-dump margin keeps free. */
const RESERVED_FIRST = 65_531;
const RESERVED_LAST = 65_535;
/** Above this the kernel memory one process can pin becomes a DoS risk (Fedora/Ubuntu default). */
export const DOS_RISK_THRESHOLD = 1_048_576;
/** vm_area_struct objsize on 6.x kernels, used when /proc/slabinfo cannot be read. */
export const DEFAULT_VMA_OBJSIZE = 192;
export const MIN_HEADROOM = 1.2;
export const DEFAULT_HEADROOM = 1.5;
export const DEFAULT_ROUND = 10_000;

export interface RecommendInput {
  /** The largest VMA count expected for any one process. At least 1. */
  peak: number;
  /** Multiplier over the peak; at least 1.2. */
  headroom: number;
  /** Round up to a multiple of this; 1 turns rounding off. */
  round: number;
}

export interface Recommendation {
  peak: number;
  headroom: number;
  round: number;
  /** ceil(peak x headroom). */
  raw: number;
  limit: number;
  /** Why the limit has its value. */
  reason: "kernel-default" | "rounded" | "reserved-range" | "int-max";
}

/**
 * Multiply exactly: headroom is turned into millionths first, so 1.2 x 50000
 * is 60000 and not 60000.00000000001.
 */
function ceilTimes(peak: number, headroom: number): number {
  const micro = BigInt(Math.round(headroom * 1_000_000));
  const product = BigInt(peak) * micro;
  const q = product / 1_000_000n;
  return Number(product % 1_000_000n === 0n ? q : q + 1n);
}

/**
 * Check the engine's inputs; throws a RangeError naming the bad one.
 * Callers turn it into a usage error.
 */
export function validateRecommendInput({ peak, headroom, round }: RecommendInput): void {
  if (!Number.isInteger(peak) || peak < 1) {
    throw new RangeError(`peak must be an integer of at least 1, got ${peak}`);
  }
  if (!Number.isFinite(headroom) || headroom < MIN_HEADROOM) {
    throw new RangeError(
      `headroom must be at least ${MIN_HEADROOM}: with less than 20% spare, a normal swing in VMA use reaches the limit and mmap fails with ENOMEM`,
    );
  }
  if (!Number.isInteger(round) || round < 1) {
    throw new RangeError(`round must be an integer of at least 1, got ${round}`);
  }
}

/**
 * Recommend a vm.max_map_count for a peak VMA count.
 *
 * - raw = ceil(peak x headroom); if raw <= 65530, the kernel default;
 * - otherwise raw rounded up to a multiple of `round`;
 * - a result in 65531..65535 becomes 65536;
 * - never above 2147483647.
 *
 * @example
 * recommendLimit({ peak: 43686, headroom: 1.5, round: 10000 }).limit; // 65530
 * recommendLimit({ peak: 80000, headroom: 1.5, round: 10000 }).limit; // 120000
 */
export function recommendLimit(input: RecommendInput): Recommendation {
  validateRecommendInput(input);
  const { peak, headroom, round } = input;
  const raw = ceilTimes(peak, headroom);
  const base = { peak, headroom, round, raw };
  if (raw <= KERNEL_DEFAULT_LIMIT)
    return { ...base, limit: KERNEL_DEFAULT_LIMIT, reason: "kernel-default" };
  const rounded = Math.ceil(raw / round) * round;
  if (rounded > INT_MAX) return { ...base, limit: INT_MAX, reason: "int-max" };
  if (rounded >= RESERVED_FIRST && rounded <= RESERVED_LAST) {
    return { ...base, limit: RESERVED_LAST + 1, reason: "reserved-range" };
  }
  return { ...base, limit: rounded, reason: "rounded" };
}

export interface Headroom {
  limit: number;
  used: number;
  free: number;
  /** free / limit x 100; negative when the process is above the limit. */
  freePercent: number;
  level: "ok" | "low" | "critical";
}

/**
 * How much room a process with `used` VMAs has under `limit`.
 * The level is ok at 20% free or more, low at 5% or more, critical below.
 *
 * @example
 * headroomUnder(65530, 60000).level; // "low"
 */
export function headroomUnder(limit: number, used: number): Headroom {
  const free = limit - used;
  const freePercent = limit > 0 ? (free / limit) * 100 : 0;
  const level = freePercent >= 20 ? "ok" : freePercent >= 5 ? "low" : "critical";
  return { limit, used, free, freePercent, level };
}

/**
 * The kernel memory one process can pin at `limit` VMAs: limit x objsize.
 *
 * @example
 * worstCaseKernelBytes(1048576, 192); // 201326592 (192 MiB)
 */
export function worstCaseKernelBytes(limit: number, objsize: number): number {
  return limit * objsize;
}

export interface DosRisk {
  /** limit x objsize: the kernel memory one process may pin. */
  worstCaseBytes: number;
  objsize: number;
  objsizeSource: "slabinfo" | "assumed";
}

export interface RecommendationRow {
  /**
   * Where the peak comes from: the busiest process now, `--vma`, a peaks
   * file (`--peaks`), or the peak seen by `watch` during its run.
   */
  basis: "top-process" | "expected-peak" | "recorded-peak" | "watched-peak";
  /** The process the peak came from; null for --vma. */
  pid: number | null;
  app: string | null;
  peak: number;
  recommendation: Recommendation;
  /** Room under the current limit; undefined when the limit is unknown. */
  current: Headroom | undefined;
  recommended: Headroom;
  /** Set when the recommended limit is above 1048576, else null. */
  dosRisk: DosRisk | null;
}

/**
 * A recommendation row for one peak, with the room under the current and the
 * recommended limit and the DoS note above 1048576.
 */
export function recommendationFor(
  peak: number,
  opts: {
    headroom: number;
    round: number;
    maxMapCount: number | undefined;
    objsize: number | undefined;
  },
  basis: RecommendationRow["basis"],
  source?: { pid: number; app: string },
): RecommendationRow {
  const recommendation = recommendLimit({ peak, headroom: opts.headroom, round: opts.round });
  const objsize = opts.objsize ?? DEFAULT_VMA_OBJSIZE;
  return {
    basis,
    pid: source?.pid ?? null,
    app: source?.app ?? null,
    peak,
    recommendation,
    current: opts.maxMapCount === undefined ? undefined : headroomUnder(opts.maxMapCount, peak),
    recommended: headroomUnder(recommendation.limit, peak),
    dosRisk:
      recommendation.limit > DOS_RISK_THRESHOLD
        ? {
            worstCaseBytes: worstCaseKernelBytes(recommendation.limit, objsize),
            objsize,
            objsizeSource: opts.objsize === undefined ? "assumed" : "slabinfo",
          }
        : null,
  };
}
