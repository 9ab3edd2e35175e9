/**
 * Parse arguments for a command as runMain would, from the objects the
 * tables in the tests use: `{ top: "5", json: true }` is `--top=5 --json`.
 */
import type { CommandSpec, OptionSpecs, PositionalSpecs } from "../../src/cli/command.ts";
import { type ParsedArgs, parseCommandArgs } from "../../src/cli/parse.ts";

export type FlagValues = Record<string, string | boolean | undefined>;

/** The argv for flag values (`--name=value`, or `--name` for true) and positionals. */
export function argvOf(values: FlagValues, positionals: readonly string[] = []): string[] {
  const argv: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (value === true) argv.push(`--${name}`);
    else if (typeof value === "string") argv.push(`--${name}=${value}`);
  }
  return [...argv, ...positionals];
}

/**
 * The typed values `command` would receive.
 *
 * @example
 * parsed(scanCommand, { top: "5" }).options.top; // 5
 */
export function parsed<O extends OptionSpecs, P extends PositionalSpecs>(
  command: CommandSpec<O, P>,
  values: FlagValues = {},
  positionals: readonly string[] = [],
): ParsedArgs<O, P> {
  return parseCommandArgs(command, argvOf(values, positionals));
}
