/**
 * The exit code an ExitError carries, for table tests of guards and parsers.
 */
import { ExitError } from "../../src/errors.ts";

/** The code of the ExitError `fn` throws, or undefined when it returns. Other errors propagate. */
export function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ExitError) return err.code;
    throw err;
  }
  return undefined;
}
