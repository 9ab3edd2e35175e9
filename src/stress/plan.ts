/**
 * The pure half of `vmaudit stress`: flags to a plan, checkpoint counts, the
 * kernel's refusal rule and the verdict. No I/O.
 */
import type { OptionValues } from "../cli/command.ts";
import { stringOption } from "../cli/parse.ts";
import { parseDecimal, parsePositiveInt } from "../cli/values.ts";
import {
  DEFAULT_HEADROOM,
  DEFAULT_ROUND,
  type Recommendation,
  recommendLimit,
} from "../core/recommend.ts";
import { UsageError } from "../errors.ts";

/** Above this, --target and --limit need --force (kernel memory pinned). */
export const STRESS_FORCE_THRESHOLD = 2_000_000;
export const DEFAULT_CHECKPOINT_PERCENTS = [10, 25, 50, 100];
export const DEFAULT_REPEAT = 5;
export const MAX_REPEAT = 1000;
export const DEFAULT_TIME_LIMIT_SECONDS = 600;
/** include/uapi/asm-generic/errno-base.h */
export const ENOMEM = 12;

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
 * Parse a --checkpoints list of percentages such as `10,25,50`. 100 is
 * always added: the full scan and the slab reading happen at the target.
 *
 * @example
 * parseCheckpointPercents("50,10"); // [10, 50, 100]
 */
export function parseCheckpointPercents(raw: string): number[] {
  const parts = raw.split(",").map((p) => p.trim().replace(/%$/, ""));
  const values = parts.map((p) => {
    const v = parseDecimal("--checkpoints", p, "stress");
    if (v <= 0 || v > 100) {
      throw new UsageError(
        `Cannot use --checkpoints "${raw}": expected percentages above 0 and at most 100, such as 10,25,50`,
        "stress",
      );
    }
    return v;
  });
  return [...new Set([...values, 100])].sort((a, b) => a - b);
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

/**
 * argv values to stress options. Throws a UsageError for a bad value.
 *
 * @example
 * parseStressOptions({ target: "100000", limit: "120000" }).limit; // 120000
 */
export function parseStressOptions(values: OptionValues): StressOptions {
  const t = stringOption(values, "target");
  if (t === undefined) {
    throw new UsageError("Missing --target N: how many VMAs the worker should create", "stress");
  }
  const target = parsePositiveInt("--target", t, { command: "stress" });
  const l = stringOption(values, "limit");
  const limit = l === undefined ? undefined : parsePositiveInt("--limit", l, { command: "stress" });
  const c = stringOption(values, "checkpoints");
  const r = stringOption(values, "repeat");
  const tl = stringOption(values, "time-limit");
  return {
    target,
    limit,
    checkpointPercents: c === undefined ? DEFAULT_CHECKPOINT_PERCENTS : parseCheckpointPercents(c),
    repeat:
      r === undefined
        ? DEFAULT_REPEAT
        : parsePositiveInt("--repeat", r, { command: "stress", max: MAX_REPEAT }),
    limitCheck: values["no-limit-check"] !== true,
    force: values.force === true,
    timeLimitSeconds:
      tl === undefined
        ? DEFAULT_TIME_LIMIT_SECONDS
        : parsePositiveInt("--time-limit", tl, { command: "stress", max: 86_400 }),
    json: values.json === true,
  };
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
