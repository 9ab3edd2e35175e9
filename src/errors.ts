/**
 * Exit codes and the errors that carry them.
 *
 * Expected failures (bad input, missing permission, a check that failed) throw
 * an {@link ExitError}; `runMain` prints its one-line message and exits with its
 * code. Anything else is a bug and gets a stack trace.
 */

export const EXIT_OK = 0;
/** A check failed, or the operation failed. */
export const EXIT_FAILURE = 1;
/** A bad command, flag or value. */
export const EXIT_USAGE = 2;
/** The command needs root. */
export const EXIT_NEEDS_ROOT = 77;

/**
 * An expected failure with a one-line message and an exit code.
 *
 * @example
 * throw new ExitError(EXIT_FAILURE, `Cannot read "/proc/sys/vm/max_map_count": EACCES`);
 */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** An extra line printed after the message, such as a hint to run --help. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = "ExitError";
  }
}

/**
 * A usage error: exit 2, with a hint to run `--help` for the command.
 *
 * @example
 * throw new UsageError(`Cannot parse --top "abc": expected a positive integer`, "scan");
 */
export class UsageError extends ExitError {
  constructor(message: string, command?: string) {
    super(EXIT_USAGE, message, `Run 'vmaudit ${command ? `${command} ` : ""}--help' for usage`);
    this.name = "UsageError";
  }
}

/** The errno code of a Node/Bun system error, or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
