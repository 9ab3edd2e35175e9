/**
 * Builders for the typed option and positional specs of the command table.
 * Each builder fills `kind`, `completion` and `defaultText`, and types the
 * value the command receives: `T` with a default, `T | undefined` without.
 *
 * @example
 * const options = {
 *   top: int({ placeholder: "N", description: "How many processes to list", default: 20 }),
 *   json: flag("Print one JSON document on stdout, nothing else"),
 * };
 * // a command with these options receives { top: number; json: boolean }
 */
import { UsageError } from "../errors.ts";
import type {
  FlagSpec,
  ParseContext,
  PositionalSpec,
  ValueCompletion,
  ValueSpec,
} from "./command.ts";
import { parseDecimal, parsePositiveInt } from "./values.ts";

/** `T` when the spec has a default, else `T | undefined`. */
type Defaulted<T, S> = S extends { default: T } ? T : T | undefined;

interface ValueBase<T> {
  description: string;
  short?: string;
  /** The placeholder in help: `N`, `FILE`. */
  placeholder: string;
  default?: T;
  /** The default as help shows it; `String(default)` when left out. */
  defaultText?: string;
}

function valueSpec<T>(
  spec: ValueBase<T>,
  completion: ValueCompletion,
  parse: (raw: string, at: ParseContext) => T,
  choices?: readonly string[],
): ValueSpec<T> {
  const defaultText =
    spec.defaultText ?? (spec.default === undefined ? undefined : String(spec.default));
  return {
    kind: "value",
    ...(spec.short === undefined ? {} : { short: spec.short }),
    description: spec.description,
    placeholder: spec.placeholder,
    default: spec.default as T,
    ...(defaultText === undefined ? {} : { defaultText }),
    ...(choices === undefined ? {} : { choices }),
    completion,
    parse,
  };
}

/**
 * A flag without a value.
 *
 * @example
 * flag("Also write the boot-time config"); // { kind: "flag", ... }
 */
export function flag(description: string, short?: string): FlagSpec {
  return { kind: "flag", description, ...(short === undefined ? {} : { short }) };
}

/**
 * A whole number from `min` (1) to `max` (INT_MAX), as `parsePositiveInt`
 * reads it.
 *
 * @example
 * int({ placeholder: "N", description: "How many", default: 20 }).parse("5", at); // 5
 */
export function int<const S extends ValueBase<number> & { min?: number; max?: number }>(
  spec: S,
): ValueSpec<Defaulted<number, S>> {
  const limits = {
    ...(spec.min === undefined ? {} : { min: spec.min }),
    ...(spec.max === undefined ? {} : { max: spec.max }),
  };
  return valueSpec(spec, "none", (raw, at) =>
    parsePositiveInt(at.name, raw, { ...limits, command: at.command }),
  ) as ValueSpec<Defaulted<number, S>>;
}

/**
 * A plain decimal number such as `1.5`; `check` adds the option's own
 * bounds (throw a UsageError).
 *
 * @example
 * decimal({ placeholder: "P", description: "Percent", default: 80 });
 */
export function decimal<
  const S extends ValueBase<number> & {
    check?: (value: number, raw: string, at: ParseContext) => void;
  },
>(spec: S): ValueSpec<Defaulted<number, S>> {
  return valueSpec(spec, "none", (raw, at) => {
    const value = parseDecimal(at.name, raw, at.command);
    spec.check?.(value, raw, at);
    return value;
  }) as ValueSpec<Defaulted<number, S>>;
}

/**
 * A path (completed as files and folders). The empty string is refused:
 * `Cannot use --save "": expected a file path`.
 *
 * @example
 * path({ placeholder: "FILE", description: "Merge the peaks into FILE", expected: "a file path" });
 */
export function path<
  const S extends ValueBase<string> & {
    /** What the value should be, for the message on "": `a file path`. */
    expected: string;
    /** Checks and rewrites after the empty-string check (`--procfs` drops trailing slashes). */
    refine?: (raw: string, at: ParseContext) => string;
  },
>(spec: S): ValueSpec<Defaulted<string, S>> {
  return valueSpec(spec, "path", (raw, at) => {
    if (raw === "")
      throw new UsageError(`Cannot use ${at.name} "": expected ${spec.expected}`, at.command);
    return spec.refine ? spec.refine(raw, at) : raw;
  }) as ValueSpec<Defaulted<string, S>>;
}

/**
 * One of a fixed list of words (offered by completion).
 *
 * @example
 * choice({ placeholder: "FORMAT", description: "Output format", choices: ["text", "json"] });
 */
export function choice<
  const C extends readonly string[],
  const S extends ValueBase<C[number]> & { choices: C },
>(spec: S & { choices: C }): ValueSpec<Defaulted<C[number], S>> {
  return valueSpec(
    spec,
    "none",
    (raw, at) => {
      const found = spec.choices.find((c) => c === raw);
      if (found === undefined)
        throw new UsageError(
          `Cannot use ${at.name} "${raw}": expected one of ${spec.choices.join(", ")}`,
          at.command,
        );
      return found;
    },
    spec.choices,
  ) as ValueSpec<Defaulted<C[number], S>>;
}

/**
 * Any other value, with its own parser.
 *
 * @example
 * custom({ placeholder: "LIST", description: "Percentages", parse: parsePercents, default: [10, 100] });
 */
export function custom<
  T,
  const S extends ValueBase<T> & {
    parse: (raw: string, at: ParseContext) => T;
    completion?: ValueCompletion;
  },
>(spec: S & { parse: (raw: string, at: ParseContext) => T }): ValueSpec<Defaulted<T, S>> {
  return valueSpec(spec, spec.completion ?? "none", spec.parse) as ValueSpec<Defaulted<T, S>>;
}

interface PositionalBase<T, N extends string> {
  name: N;
  description: string;
  parse: (raw: string, at: ParseContext) => T;
  choices?: readonly string[];
  completion?: ValueCompletion;
}

type ArityValue<T, A> = A extends "one" ? T : A extends "optional" ? T | undefined : T[];

/**
 * A positional argument: required ("one"), optional, or a list ("many").
 *
 * @example
 * positional({ name: "PID", description: "The process", arity: "one", parse: parsePid, completion: "pid" });
 */
export function positional<const N extends string, T, const A extends PositionalSpec["arity"]>(
  spec: PositionalBase<T, N> & { arity: A },
): PositionalSpec<ArityValue<T, A>, N> {
  return {
    name: spec.name,
    description: spec.description,
    arity: spec.arity,
    ...(spec.choices === undefined ? {} : { choices: spec.choices }),
    completion: spec.completion ?? "none",
    parse: spec.parse,
  };
}
