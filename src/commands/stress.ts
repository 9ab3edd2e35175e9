/**
 * `vmaudit stress`: a controlled mmap workload that proves a limit and
 * measures scans at high VMA counts. The command's metadata and typed
 * options; `stress.run.ts` does the work.
 */
import { type CommandInput, defineCommand } from "../cli/command.ts";
import { JSON_OPTION } from "../cli/common_options.ts";
import { custom, flag, int } from "../cli/options.ts";
import { parseDecimal } from "../cli/values.ts";
import { UsageError } from "../errors.ts";
import {
  DEFAULT_CHECKPOINT_PERCENTS,
  DEFAULT_REPEAT,
  DEFAULT_TIME_LIMIT_SECONDS,
  MAX_REPEAT,
  STRESS_FORCE_THRESHOLD,
} from "../stress/plan.ts";

/** The longest --time-limit: a day. */
const MAX_TIME_LIMIT_SECONDS = 86_400;

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

const options = {
  target: int({ placeholder: "N", description: "VMAs the worker creates (required)" }),
  limit: int({
    placeholder: "L",
    description: "Set vm.max_map_count to L for the run, then restore it (root)",
  }),
  checkpoints: custom({
    placeholder: "LIST",
    description: "Percentages of N to pause and time scans at; 100 is always added",
    default: DEFAULT_CHECKPOINT_PERCENTS,
    defaultText: DEFAULT_CHECKPOINT_PERCENTS.join(","),
    parse: parseCheckpointPercents,
  }),
  repeat: int({
    placeholder: "K",
    description: "Scans timed at each checkpoint",
    default: DEFAULT_REPEAT,
    max: MAX_REPEAT,
  }),
  "no-limit-check": flag("Stop at N instead of mapping on until the kernel refuses"),
  force: flag(
    `Allow values above ${STRESS_FORCE_THRESHOLD} and a --limit below a running process's count`,
  ),
  "time-limit": int({
    placeholder: "SECONDS",
    description: "The worker ends itself after this long",
    default: DEFAULT_TIME_LIMIT_SECONDS,
    max: MAX_TIME_LIMIT_SECONDS,
  }),
  ...JSON_OPTION,
};

export type StressRun = CommandInput<typeof options>;

export const stressCommand = defineCommand({
  name: "stress",
  summary: "Map N VMAs in a worker: prove the limit and time scans at that count",
  description: `
Starts a worker process that creates --target one-page mappings (no RAM, one
vm_area_struct each). At each checkpoint it times --repeat scans of the
worker's maps with scan's own reader and checks the count is exact. Then,
unless --no-limit-check, it keeps mapping until the kernel refuses and checks
the refusal against the kernel's rule: a process can reach limit + 1 VMAs.

--limit sets vm.max_map_count for the run (root). The old value is written to
a journal in /run/vmaudit first and restored at the end, on errors, on Ctrl-C
and on SIGTERM; after a SIGKILL the next run restores it.

Exit codes: 0 done, 1 limit not honored / count not exact / target not
reachable, 2 usage or a refused value, 77 --limit needs root, 130/143 interrupted.`,
  options,
  examples: [
    "sudo vmaudit stress --target 100000 --limit 120000",
    "vmaudit stress --target 20000 --json",
    "sudo vmaudit stress --target 50000 --limit 30000 --checkpoints 10,50",
  ],
  exitCodes: [
    { code: 0, meaning: "done: the limit honored, every count exact" },
    {
      code: 1,
      meaning:
        "the limit was not honored, a count was not exact, the target was not reachable, or restoring the limit failed",
    },
    { code: 2, meaning: "usage error, or a value a guard refuses without --force" },
    { code: 77, meaning: "--limit needs root" },
    { code: 130, meaning: "interrupted by SIGINT (after restoring the limit)" },
    { code: 143, meaning: "interrupted by SIGTERM (after restoring the limit)" },
  ],
  load: () => import("./stress.run.ts"),
});
