/**
 * argv to a command's typed values: `splitArgv` (strict, as node:util
 * parseArgs) splits the arguments, then each option's and positional's
 * `parse` turns its text into a value, in the order the command declares
 * them. A split that fails is a one-line usage error.
 */
import { UsageError } from "../errors.ts";
import { type ArgvError, type ArgvOption, splitArgv } from "./argv.ts";
import {
  COMMON_OPTIONS,
  type Command,
  type CommandSpec,
  type OptionSpecs,
  type OptionValues,
  type PositionalSpecs,
  type PositionalValues,
} from "./command.ts";

export interface ParsedArgs<O extends OptionSpecs, P extends PositionalSpecs> {
  options: OptionValues<O> & OptionValues<typeof COMMON_OPTIONS>;
  args: PositionalValues<P>;
  /** `--help` was given: show the command's help and do nothing else. */
  help: boolean;
}

/**
 * Parse the arguments that follow the command name.
 *
 * @example
 * parseCommandArgs(scanCommand, ["--top", "5"]).options.top; // 5
 */
export function parseCommandArgs<O extends OptionSpecs, P extends PositionalSpecs>(
  command: CommandSpec<O, P>,
  argv: readonly string[],
): ParsedArgs<O, P> {
  if (command.rawArgs) return { options: {}, args: {}, help: wantsHelp(argv) } as ParsedArgs<O, P>;
  const specs: OptionSpecs = { ...COMMON_OPTIONS, ...command.options };
  const config: Record<string, ArgvOption> = {};
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = {
      type: spec.kind === "value" ? "string" : "boolean",
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  const split = splitArgv(argv, config);
  if (!split.ok) throw new UsageError(describeArgvError(split.error, command), command.name);
  const raw = split;
  // A --help anywhere wins over every other check.
  if (raw.values.help === true) return { options: {}, args: {}, help: true } as ParsedArgs<O, P>;

  const positionals = command.positionals ?? [];
  const many = positionals.some((p) => p.arity === "many");
  if (!many && raw.positionals.length > positionals.length) {
    const extra = raw.positionals[positionals.length];
    throw new UsageError(
      `Unexpected argument "${extra}" for 'vmaudit ${command.name}'`,
      command.name,
    );
  }
  const required = positionals.filter((p) => p.arity === "one");
  if (raw.positionals.length < required.length) {
    const missing = required[raw.positionals.length];
    throw new UsageError(`Missing ${missing?.name} for 'vmaudit ${command.name}'`, command.name);
  }

  const args: Record<string, unknown> = {};
  let next = 0;
  for (const p of positionals) {
    const at = { name: p.name, command: command.name };
    if (p.arity === "many") {
      args[p.name] = raw.positionals.slice(next).map((r) => p.parse(r, at));
      next = raw.positionals.length;
    } else {
      const r = raw.positionals[next++];
      args[p.name] = r === undefined ? undefined : p.parse(r, at);
    }
  }

  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = raw.values[name];
    if (spec.kind === "flag") options[name] = given === true;
    else
      options[name] =
        typeof given === "string"
          ? spec.parse(given, { name: `--${name}`, command: command.name })
          : spec.default;
  }
  return { options, args, help: false } as ParsedArgs<O, P>;
}

/** A `--help` or `-h` before any `--`: for commands whose arguments are not parsed here. */
function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** The one-line message for an argument that does not split. */
function describeArgvError(error: ArgvError, command: Command): string {
  const shown = error.option.startsWith("-") ? error.option : `-${error.option}`;
  if (error.kind === "unknown") {
    // `vmaudit apply -5`: a negative number where an argument goes.
    const positional = command.positionals?.[0];
    if (positional && /^-[0-9.]/.test(shown))
      return `Cannot parse ${positional.name} "${shown}": expected a positive integer`;
    return `Unknown option "${shown}" for 'vmaudit ${command.name}'`;
  }
  if (error.kind === "unexpected-value") return `Option ${shown} does not take a value`;
  const long = resolveOptionName(command, shown.replace(/^-+/, "")) ?? "";
  const spec = command.options[long];
  // `--top -1`: the value looks like an option.
  if (error.kind === "ambiguous-value" && /^-[0-9.]/.test(error.value))
    return `Cannot parse --${long} "${error.value}": negative values are not allowed`;
  return `Option --${long} needs a value: --${long} ${spec?.kind === "value" ? spec.placeholder : "VALUE"}`;
}

function resolveOptionName(command: Command, name: string): string | undefined {
  const all: OptionSpecs = { ...COMMON_OPTIONS, ...command.options };
  if (name in all) return name;
  return Object.entries(all).find(([, o]) => o.short === name)?.[0];
}
