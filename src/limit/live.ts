/**
 * The live vm.max_map_count in /proc/sys: set it, read it back, and explain
 * the failures an admin meets (not root, a container's read-only /proc/sys).
 */
import { writeFileSync } from "node:fs";
import { EXIT_FAILURE, EXIT_NEEDS_ROOT, ExitError, errnoCode } from "../errors.ts";
import { isRoot } from "../identity.ts";
import { maxMapCountPath, readMaxMapCount } from "../proc/kernel.ts";

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
      `Cannot write "${path}" (${code}): /proc/sys is read-only here, as in a container. vm.max_map_count belongs to the host kernel and is not namespaced: set it on the host (sysctl -w vm.max_map_count=${value})`,
    );
  }
  if (code === "EINVAL") {
    return new ExitError(EXIT_FAILURE, `The kernel refused vm.max_map_count=${value} (EINVAL)`);
  }
  return new ExitError(EXIT_FAILURE, `Cannot write "${path}": ${code ?? "unknown error"}`);
}
