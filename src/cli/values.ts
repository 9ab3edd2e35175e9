/**
 * Parsers for flag and argument values. Each returns the parsed value or
 * throws a {@link UsageError} that quotes the input and says what was expected.
 */
import { INT_MAX } from "../core/kernel_limits.ts";
import { UsageError } from "../errors.ts";

/**
 * Parse a positive decimal integer. Signs, hex, exponents, decimals and empty
 * strings are rejected, because a limit typed as `1e6` or `0x10` is far more
 * likely a mistake than a wish.
 *
 * @example
 * parsePositiveInt("--top", "20"); // 20
 * parsePositiveInt("--top", "abc"); // throws UsageError
 */
export function parsePositiveInt(
  name: string,
  raw: string,
  opts: { min?: number; max?: number; command?: string } = {},
): number {
  const min = opts.min ?? 1;
  const max = opts.max ?? INT_MAX;
  const expected = min === 0 ? "a non-negative integer" : "a positive integer";
  if (!/^[0-9]+$/.test(raw)) {
    throw new UsageError(`Cannot parse ${name} "${raw}": expected ${expected}`, opts.command);
  }
  // Compare as a string length first so huge inputs do not lose precision.
  const digits = raw.replace(/^0+(?=\d)/, "");
  const value = Number(digits);
  if (digits.length > 16 || value > max) {
    const why = max === INT_MAX ? " (vm.max_map_count is a C int)" : "";
    throw new UsageError(
      `Cannot use ${name} "${raw}": expected at most ${max}${why}`,
      opts.command,
    );
  }
  if (value < min) {
    throw new UsageError(`Cannot use ${name} "${raw}": expected ${expected}`, opts.command);
  }
  return value;
}

/**
 * Parse a plain decimal number such as `1.5`. No signs, exponents or hex.
 *
 * @example
 * parseDecimal("--headroom", "1.25"); // 1.25
 */
export function parseDecimal(name: string, raw: string, command?: string): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw)) {
    throw new UsageError(
      `Cannot parse ${name} "${raw}": expected a decimal number such as 1.5`,
      command,
    );
  }
  return Number(raw);
}
