/**
 * Guards on a new vm.max_map_count, shared by `apply` and `stress`: a value
 * that would break a running process, or one so high it becomes a
 * kernel-memory denial-of-service risk, is refused unless --force.
 * Refusals exit 2 and change nothing.
 */
import { INT_MAX } from "../core/kernel_limits.ts";
import { DEFAULT_VMA_OBJSIZE } from "../core/recommend.ts";
import { EXIT_USAGE, ExitError } from "../errors.ts";
import { formatBytes } from "../render/units.ts";

export interface BusiestProcess {
  pid: number;
  app: string;
  vmas: number;
}

/**
 * Refuse a value vm.max_map_count cannot take: it is a C int, and 0 would
 * forbid every new mapping. `apply` gets this from parsing VALUE; a value read
 * from elsewhere (the stress journal) is checked here.
 *
 * @example
 * guardLimitRange({ what: "restoring 0 from the journal", value: 0 }); // throws, exit 2
 */
export function guardLimitRange(input: { what: string; value: number }): void {
  const { what, value } = input;
  if (Number.isSafeInteger(value) && value >= 1 && value <= INT_MAX) return;
  throw new ExitError(
    EXIT_USAGE,
    `Refusing ${what}: expected an integer from 1 to ${INT_MAX} (vm.max_map_count is a C int)`,
  );
}

/**
 * Refuse a limit below the VMA count a process already has: its next mmap
 * would fail with ENOMEM (mm/vma.c: map_count > sysctl_max_map_count).
 *
 * @example
 * guardBelowPeak({ what: "VALUE 30000", value: 30000, busiest: { pid: 1, app: "java", vmas: 54321 }, force: false });
 */
export function guardBelowPeak(input: {
  what: string;
  value: number;
  busiest: BusiestProcess | undefined;
  force: boolean;
}): void {
  const { what, value, busiest, force } = input;
  if (force || !busiest || value >= busiest.vmas) return;
  throw new ExitError(
    EXIT_USAGE,
    `Refusing ${what}: pid ${busiest.pid} (${busiest.app}) has ${busiest.vmas} VMAs now, so its next mmap would fail with ENOMEM`,
    "Pass --force to set it anyway",
  );
}

/**
 * Refuse a limit above `threshold`, stating the worst-case kernel memory one
 * process could pin (value x vm_area_struct objsize).
 *
 * @example
 * guardHighValue({ what: "VALUE 5000000", value: 5_000_000, threshold: 1_048_576, objsize: 192, force: false });
 */
export function guardHighValue(input: {
  what: string;
  value: number;
  threshold: number;
  objsize: number | undefined;
  force: boolean;
}): void {
  const { what, value, threshold, force } = input;
  if (force || value <= threshold) return;
  const objsize = input.objsize ?? DEFAULT_VMA_OBJSIZE;
  throw new ExitError(
    EXIT_USAGE,
    `Refusing ${what}: above ${threshold}, one process may pin ${formatBytes(value * objsize)} of unswappable kernel memory (${value} x ${objsize}-byte vm_area_struct), which the OOM killer does not see: a denial-of-service risk`,
    "Pass --force if you really mean it",
  );
}
