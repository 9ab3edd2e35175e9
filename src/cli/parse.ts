/**
 * argv to a command's typed values: `node:util` parseArgs (strict) splits
 * the arguments, then each option's and positional's `parse` turns its text
 * into a value, in the order the command declares them. parseArgs's errors
 * are rewritten as one-line usage errors. `runMain` imports this module only
 * when a command runs, so `--version` does not load node:util.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
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
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = { type: spec.kind === "value" ? "string" : "boolean" };
    if (spec.short) (config[name] as { short?: string }).short = spec.short;
  }
  let raw: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    raw = parseArgs({
      args: [...argv],
      options: config,
      allowPositionals: true,
      strict: true,
    }) as typeof raw;
  } catch (err) {
    throw new UsageError(describeParseError(err, command, argv), command.name);
  }
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

function describeParseError(err: unknown, command: Command, argv: readonly string[]): string {
  const code = typeof err === "object" && err && "code" in err ? String(err.code) : "";
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'(-[^']*)'/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    // `vmaudit apply -5`: a negative number where an argument goes.
    const positional = command.positionals?.[0];
    if (positional && quoted && /^-[0-9.]/.test(quoted)) {
      return `Cannot parse ${positional.name} "${quoted}": expected a positive integer`;
    }
    return `Unknown option "${quoted ?? "?"}" for 'vmaudit ${command.name}'`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    // Either a string option without a value, or a value given to a boolean.
    const flag = quoted?.split(/[ ,]/)[0] ?? "";
    const name = flag.replace(/^-+/, "").split("=")[0] ?? "";
    const long = resolveOptionName(command, name);
    const spec = long === undefined ? undefined : command.options[long];
    if (long && spec?.kind === "value") {
      // parseArgs reads `--top -1` as a flag with its value missing.
      const next = argv[argv.indexOf(flag) + 1];
      if (next !== undefined && /^-[0-9.]/.test(next)) {
        return `Cannot parse --${long} "${next}": negative values are not allowed`;
      }
      return `Option --${long} needs a value: --${long} ${spec.placeholder}`;
    }
    return `Option ${flag || argv.join(" ")} does not take a value`;
  }
  return message.split("\n")[0] ?? message;
}

function resolveOptionName(command: Command, name: string): string | undefined {
  const all: OptionSpecs = { ...COMMON_OPTIONS, ...command.options };
  if (name in all) return name;
  return Object.entries(all).find(([, o]) => o.short === name)?.[0];
}
