/**
 * The pure half of `vmaudit stress`: its settings, checkpoint counts, the
 * kernel's refusal rule, the verdict and the exit code. No I/O, and no argv:
 * the command table parses the flags (src/commands/stress.ts).
 */
import { ENOMEM } from "../../stress/contract.ts";
import {
  DEFAULT_HEADROOM,
  DEFAULT_ROUND,
  type Recommendation,
  recommendLimit,
} from "../core/recommend.ts";

/** Above this, --target and --limit need --force (kernel memory pinned). */
export const STRESS_FORCE_THRESHOLD = 2_000_000;
export const DEFAULT_CHECKPOINT_PERCENTS = [10, 25, 50, 100];
export const DEFAULT_REPEAT = 5;
export const MAX_REPEAT = 1000;
export const DEFAULT_TIME_LIMIT_SECONDS = 600;

export interface StressOptions {
  target: number;
  limit: number | undefined;
  /** Percentages of the target, ascending, ending at 100. */
  checkpointPercents: number[];
  repeat: number;
  limitCheck: boolean;
  force: boolean;
  timeLimitSeconds: number;
  json: boolean;
}

/**
 * The created counts at which the worker pauses: ceil(target x percent),
 * at least 1, without repeats, ending at the target.
 *
 * @example
 * checkpointCounts(20000, [10, 25, 50, 100]); // [2000, 5000, 10000, 20000]
 */
export function checkpointCounts(target: number, percents: number[]): number[] {
  const counts = percents.map((p) => Math.max(1, Math.min(target, Math.ceil((target * p) / 100))));
  return [...new Set([...counts, target])].sort((a, b) => a - b);
}

export interface LimitVerdict {
  /** The live vm.max_map_count while the worker mapped. */
  limit: number;
  /** limit + 1: a process that only calls mmap can reach this many VMAs. */
  expectedPeak: number;
  /** The worker's map_count when mmap failed: baseline + created. */
  observedPeak: number;
  expectedCreated: number;
  observedCreated: number;
  errno: number;
  honored: boolean;
}

/**
 * Check where the kernel refused against its rule. mmap fails with ENOMEM
 * when map_count > max_map_count before the new mapping (Linux mm/mmap.c,
 * do_mmap(): `if (mm->map_count > sysctl_max_map_count) return -ENOMEM`), so
 * a process can reach exactly limit + 1 VMAs; LTP's
 * testcases/kernel/mem/tunable/max_map_count.c expects the same.
 *
 * @example
 * judgeLimit({ limit: 30000, baseline: 59, created: 29942, errno: 12 }).honored; // true
 */
export function judgeLimit(input: {
  limit: number;
  baseline: number;
  created: number;
  errno: number;
}): LimitVerdict {
  const { limit, baseline, created, errno } = input;
  const expectedPeak = limit + 1;
  const observedPeak = baseline + created;
  return {
    limit,
    expectedPeak,
    observedPeak,
    expectedCreated: expectedPeak - baseline,
    observedCreated: created,
    errno,
    honored: errno === ENOMEM && observedPeak === expectedPeak,
  };
}

export interface ApplySuggestion {
  /** The map_count the worker needs at the target: baseline + target. */
  peak: number;
  recommendation: Recommendation;
  command: string;
}

/**
 * The `vmaudit apply` command that would let the worker reach its target,
 * from the recommendation engine with its default headroom and rounding.
 *
 * @example
 * suggestApply(100000, 60).command; // "sudo vmaudit apply 160000"
 */
export function suggestApply(target: number, baseline: number): ApplySuggestion {
  const peak = baseline + target;
  const recommendation = recommendLimit({ peak, headroom: DEFAULT_HEADROOM, round: DEFAULT_ROUND });
  return { peak, recommendation, command: `sudo vmaudit apply ${recommendation.limit}` };
}

/**
 * The exit code of a finished run: 1 when the limit was not honored, a count
 * was not exact, or the target could not be reached under the current limit
 * (no --limit given); else 0.
 *
 * @example
 * stressExitCode({ honored: true, allExact: true, targetReached: true, limitGiven: false }); // 0
 */
export function stressExitCode(r: {
  honored: boolean | null;
  allExact: boolean;
  targetReached: boolean;
  limitGiven: boolean;
}): number {
  if (r.honored === false || !r.allExact) return 1;
  if (!r.targetReached && !r.limitGiven) return 1;
  return 0;
}
