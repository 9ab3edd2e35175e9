/**
 * The exit code an expected failure would give, for table-driven tests.
 */
import { ExitError } from "../../src/errors.ts";

/** The ExitError code `fn` throws, or undefined when it returns; other errors propagate. */
export function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExitError) return err.code;
    throw err;
  }
  return undefined;
}
