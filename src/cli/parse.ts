/**
 * argv to values, using `node:util` parseArgs with strict checking. Its
 * errors are rewritten as one-line usage errors.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { COMMON_OPTIONS, type Command, type OptionValues } from "./command.ts";

export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

/**
 * Parse the arguments that follow the command name.
 *
 * @example
 * parseCommandArgs(scanCommand, ["--top", "5"]).values.top; // "5"
 */
export function parseCommandArgs(command: Command, args: string[]): ParsedArgs {
  const options = { ...COMMON_OPTIONS, ...command.options };
  const spec: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> =
    {};
  for (const [name, opt] of Object.entries(options)) {
    spec[name] = { type: opt.type };
    if (opt.short) spec[name].short = opt.short;
    if (opt.multiple) spec[name].multiple = true;
  }
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: spec, allowPositionals: true, strict: true }) as ParsedArgs;
  } catch (err) {
    throw new UsageError(describeParseError(err, command, args), command.name);
  }
  // A --help anywhere wins over positional checks.
  if (parsed.values.help) return parsed;
  const allowed = command.positionals ?? [];
  if (parsed.positionals.length > allowed.length) {
    const extra = parsed.positionals[allowed.length];
    throw new UsageError(
      `Unexpected argument "${extra}" for 'vmaudit ${command.name}'`,
      command.name,
    );
  }
  const required = allowed.filter((p) => !p.optional);
  if (parsed.positionals.length < required.length) {
    const missing = required[parsed.positionals.length];
    throw new UsageError(`Missing ${missing?.name} for 'vmaudit ${command.name}'`, command.name);
  }
  return parsed;
}

function describeParseError(err: unknown, command: Command, args: string[]): string {
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
    if (long && command.options[long]?.type === "string") {
      // parseArgs reads `--top -1` as a flag with its value missing.
      const next = args[args.indexOf(flag) + 1];
      if (next !== undefined && /^-[0-9.]/.test(next)) {
        return `Cannot parse --${long} "${next}": negative values are not allowed`;
      }
      const placeholder = command.options[long]?.value ?? "VALUE";
      return `Option --${long} needs a value: --${long} ${placeholder}`;
    }
    return `Option ${flag || args.join(" ")} does not take a value`;
  }
  return message.split("\n")[0] ?? message;
}

function resolveOptionName(command: Command, name: string): string | undefined {
  const all = { ...COMMON_OPTIONS, ...command.options };
  if (name in all) return name;
  return Object.entries(all).find(([, o]) => o.short === name)?.[0];
}

/** The value of a string option, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}
