/**
 * The live vm.max_map_count in /proc/sys: set it, raise it to a floor, read
 * it back, and explain the failures an admin meets (not root, a container's
 * read-only /proc/sys, a value that is not a number).
 */
import { writeFileSync } from "node:fs";
import { INT_MAX } from "../core/kernel_limits.ts";
import { EXIT_FAILURE, EXIT_NEEDS_ROOT, ExitError, errnoCode } from "../errors.ts";
import { isRoot } from "../identity.ts";
import { maxMapCountPath, readMaxMapCount, readMaxMapCountStrict } from "../proc/kernel.ts";

export interface LimitChange {
  previous: number;
  current: number;
  changed: boolean;
}

/**
 * Set vm.max_map_count and verify the read-back. Unchanged when it already
 * has the value.
 *
 * @example
 * setMaxMapCount(120000); // { previous: 65530, current: 120000, changed: true }
 */
export function setMaxMapCount(value: number, procfs = "/proc"): LimitChange {
  const path = maxMapCountPath(procfs);
  const previous = readMaxMapCount(procfs);
  if (previous === undefined) throw new ExitError(EXIT_FAILURE, `Cannot read "${path}"`);
  if (previous === value) return { previous, current: value, changed: false };
  try {
    writeFileSync(path, `${value}\n`);
  } catch (err) {
    throw explainWriteError(errnoCode(err), path, value);
  }
  const current = readMaxMapCount(procfs);
  if (current !== value) {
    throw new ExitError(
      EXIT_FAILURE,
      `Wrote ${value} to "${path}" but read back ${current ?? "nothing"}: the kernel did not keep the value`,
    );
  }
  return { previous, current, changed: true };
}

/** How the new value reaches the file: a parameter so a test can stand in for a kernel that drops it. */
export type LimitWriter = (path: string, text: string) => void;

const writeLimitFile: LimitWriter = (path, text) => writeFileSync(path, text);

/** Longest piece of a non-numeric value quoted in a message. */
const QUOTE_MAX = 40;

/**
 * The current vm.max_map_count, or an error that says what was found
 * instead: the file unreadable (exit 1), or text that is not one whole
 * number from 0 to INT_MAX (exit 1). Nothing is guessed.
 *
 * @example
 * readCurrentLimit("/proc"); // 65530
 */
export function readCurrentLimit(procfs: string): number {
  const path = maxMapCountPath(procfs);
  const r = readMaxMapCountStrict(procfs);
  if (r.ok) return r.value;
  if (r.problem === "unreadable") {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot read the current vm.max_map_count from "${path}": ${r.code}`,
    );
  }
  const text = r.text.length > QUOTE_MAX ? `${r.text.slice(0, QUOTE_MAX)}...` : r.text;
  throw new ExitError(
    EXIT_FAILURE,
    `Cannot use the current vm.max_map_count "${text}" from "${path}": expected a whole number from 0 to ${INT_MAX}`,
  );
}

/**
 * Raise vm.max_map_count to `floor` when it is lower; never lower it. A value
 * at or above the floor is left alone (nothing is written). After a write
 * the value is read back, and a read-back below the floor is an error: the
 * kernel (or whatever stands between us and it) did not keep the value. A
 * read-back above the floor is fine: someone raised it further meanwhile.
 *
 * @example
 * raiseMaxMapCount(262144); // { previous: 65530, current: 262144, changed: true }
 * raiseMaxMapCount(262144); // { previous: 262144, current: 262144, changed: false }
 */
export function raiseMaxMapCount(
  floor: number,
  procfs = "/proc",
  write: LimitWriter = writeLimitFile,
): LimitChange {
  const path = maxMapCountPath(procfs);
  const previous = readCurrentLimit(procfs);
  if (previous >= floor) return { previous, current: previous, changed: false };
  try {
    write(path, `${floor}\n`);
  } catch (err) {
    throw explainWriteError(errnoCode(err), path, floor);
  }
  const after = readMaxMapCountStrict(procfs);
  if (!after.ok || after.value < floor) {
    const got = after.ok
      ? String(after.value)
      : after.problem === "unreadable"
        ? `nothing (${after.code})`
        : `"${after.text.slice(0, QUOTE_MAX)}"`;
    throw new ExitError(
      EXIT_FAILURE,
      `Wrote ${floor} to "${path}" but read back ${got}, below ${floor}: the kernel did not keep the value`,
    );
  }
  return { previous, current: after.value, changed: true };
}

/** Turn a write errno into an error that says what to do. */
export function explainWriteError(
  code: string | undefined,
  path: string,
  value: number,
): ExitError {
  const asRoot = isRoot();
  if ((code === "EACCES" || code === "EPERM") && !asRoot) {
    return new ExitError(
      EXIT_NEEDS_ROOT,
      `Cannot write "${path}": changing vm.max_map_count needs root`,
    );
  }
  if (code === "EROFS" || code === "EACCES" || code === "EPERM") {
    return new ExitError(
      EXIT_FAILURE,
      `Cannot write "${path}" (${code}): /proc/sys is read-only here, as in a container. vm.max_map_count belongs to the host kernel and is not namespaced: run this in a privileged container or on the host`,
    );
  }
  if (code === "EINVAL") {
    return new ExitError(EXIT_FAILURE, `The kernel refused vm.max_map_count=${value} (EINVAL)`);
  }
  return new ExitError(EXIT_FAILURE, `Cannot write "${path}": ${code ?? "unknown error"}`);
}
