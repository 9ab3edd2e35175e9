/**
 * The shape of a command. Every command is a plain object in the table in
 * `src/commands/index.ts`: metadata (name, summary, description, typed
 * options and positionals, examples, exit codes) that parsing, `--help`,
 * completions and a man page read, and `load()`, which imports the
 * implementation only when the command runs (as citty's lazy subcommands).
 * A command's `run` receives typed values: the parser fills them from each
 * spec's `parse` and `default`.
 */
import type { Io } from "./io.ts";

/** What a shell offers for a value: files and folders, running pids, or nothing. */
export type ValueCompletion = "path" | "pid" | "none";

/** Where a value is parsed, for messages such as `Cannot parse --top "x"`. */
export interface ParseContext {
  /** The flag (`--top`) or the positional (`VALUE`) as messages name it. */
  name: string;
  /** The command, for the `--help` hint of a usage error. */
  command: string;
}

/** A flag that takes no value: `true` when given, else `false`. */
export interface FlagSpec {
  kind: "flag";
  short?: string;
  /** One line for help, completions and the man page. */
  description: string;
}

/** An option with a value, parsed to `T`. */
export interface ValueSpec<T> {
  kind: "value";
  short?: string;
  description: string;
  /** The value's placeholder in help and the man page: `N`, `FILE`. */
  placeholder: string;
  /** What the command receives when the option is absent (undefined: none). */
  default: T;
  /** The default as help shows it, `(default: …)`; nothing is shown without it. */
  defaultText?: string;
  /** The only values accepted (checked by `parse`), offered by completion. */
  choices?: readonly string[];
  completion: ValueCompletion;
  /** The typed value, or a UsageError that quotes `raw` and says what was expected. */
  parse(raw: string, at: ParseContext): T;
}

export type OptionSpec = FlagSpec | ValueSpec<unknown>;
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The typed values a command receives for its options. */
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]: O[K] extends ValueSpec<infer T> ? T : boolean;
};

/** A positional argument. `T` is what the command receives (a list for "many"). */
export interface PositionalSpec<T = unknown, N extends string = string> {
  name: N;
  description: string;
  /** "one": required; "optional": at most one; "many": any number, as a list. */
  arity: "one" | "optional" | "many";
  choices?: readonly string[];
  completion: ValueCompletion;
  /** One argument's value (for "many", one element of the list). */
  parse(raw: string, at: ParseContext): unknown;
  /** Never set: carries `T` for the typed values. */
  readonly valueType?: T;
}

export type PositionalSpecs = readonly PositionalSpec[];

/** The typed values a command receives for its positionals, by name. */
export type PositionalValues<P extends PositionalSpecs> = {
  readonly [S in P[number] as S["name"]]: S extends PositionalSpec<infer T> ? T : never;
};

/** One exit code a command can end with, for help and the man page. */
export interface ExitCodeSpec {
  code: number;
  meaning: string;
}

/** What `run` receives. */
export interface CommandInput<O extends OptionSpecs, P extends PositionalSpecs = []> {
  /** The command's options and the common ones (`help`, `no-color`). */
  options: OptionValues<O> & OptionValues<typeof COMMON_OPTIONS>;
  args: PositionalValues<P>;
  io: Io;
  /** The arguments as typed, command name first (for messages that repeat the command line). */
  argv: readonly string[];
  /** The whole command table (completions and help render from it). */
  commands: readonly Command[];
}

/** The implementation, loaded only when the command runs. */
export interface CommandModule<I> {
  /** Returns the exit code. Expected failures throw ExitError. */
  run(input: I): number | Promise<number>;
  /**
   * What a usage error prints on stdout, given its message and the command's
   * arguments. `check` uses it: a monitor reads only stdout, so even a bad
   * flag must give it a status line (or JSON with `--json`).
   */
  usageErrorStdout?(message: string, args: readonly string[]): string;
}

export interface CommandSpec<O extends OptionSpecs, P extends PositionalSpecs> {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Paragraphs shown under the usage line in `vmaudit CMD --help`. */
  description?: string;
  /** Internal commands (the stress worker) are left out of help and completions. */
  hidden?: boolean;
  options: O;
  positionals?: P;
  /**
   * Hand the arguments to `run` unparsed (in `argv`): the stress worker's
   * argv is written and read by stress/contract.ts alone.
   */
  rawArgs?: boolean;
  examples?: readonly string[];
  /** The exit codes this command can end with (common ones included). */
  exitCodes: readonly ExitCodeSpec[];
  /**
   * The exit code for usage errors, when not 2. `check` uses 3 (UNKNOWN):
   * in the monitoring-plugins convention 2 means CRITICAL, and a typo in a
   * check's arguments must not page anyone as a critical alert.
   */
  usageExitCode?: number;
  /** Import the implementation (a dynamic import, so it costs nothing until the command runs). */
  load(): Promise<CommandModule<CommandInput<O, P>>>;
}

/** A command of any shape, as the table holds it. */
// biome-ignore lint/suspicious/noExplicitAny: the table holds commands of every option shape
export type Command = CommandSpec<any, any>;

/**
 * Define a command: returns the spec, typed, so that `run` gets typed values.
 *
 * @example
 * const options = { top: int({ placeholder: "N", description: "How many", default: 20 }) };
 * export type ScanRun = CommandInput<typeof options>;
 * export const scanCommand = defineCommand({ name: "scan", summary: "...", options, exitCodes: [], load: () => import("./scan.run.ts") });
 */
export function defineCommand<const O extends OptionSpecs, const P extends PositionalSpecs = []>(
  spec: CommandSpec<O, P>,
): CommandSpec<O, P> {
  return spec;
}

/** Options every command accepts; added by the parser, listed in every help. */
export const COMMON_OPTIONS = {
  help: { kind: "flag", short: "h", description: "Show this help" },
  "no-color": { kind: "flag", description: "Never colour the output (also: NO_COLOR=1)" },
} as const satisfies OptionSpecs;

/**
 * The options runMain reads before any command (only as the first
 * argument), for completions and the man page.
 */
export const GLOBAL_OPTIONS = {
  help: { kind: "flag", short: "h", description: "Show help" },
  version: { kind: "flag", short: "V", description: "Show the version" },
} as const satisfies OptionSpecs;

/** The exit codes every command shares, as the top-level help lists them. */
export const COMMON_EXIT_CODES = {
  ok: { code: 0, meaning: "ok" },
  failure: { code: 1, meaning: "the operation or a check failed" },
  usage: { code: 2, meaning: "usage error (a bad command, flag or value)" },
  needsRoot: { code: 77, meaning: "the command needs root" },
} as const satisfies Record<string, ExitCodeSpec>;
