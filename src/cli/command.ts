/**
 * The shape of a command. Every command is a plain object in the table in
 * `src/commands/index.ts`; that table drives parsing, `--help` and shell
 * completions.
 */
import type { Io } from "./io.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder for the value in help, such as `N` or `PATH`. */
  value?: string;
  description: string;
  /** The default, as shown in help. */
  default?: string;
  multiple?: boolean;
  /** The only values accepted, offered by shell completion. */
  choices?: readonly string[];
}

export interface PositionalSpec {
  name: string;
  description: string;
  optional?: boolean;
  /** The only values accepted, offered by shell completion. */
  choices?: string[];
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandInput {
  values: OptionValues;
  positionals: string[];
  io: Io;
  /** The arguments as typed, command name first (for messages that repeat the command line). */
  argv?: readonly string[];
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Paragraphs shown under the usage line in `vmaudit CMD --help`. */
  description?: string;
  /** Internal commands (the stress worker) are left out of help and completions. */
  hidden?: boolean;
  options: Record<string, OptionSpec>;
  positionals?: PositionalSpec[];
  examples?: string[];
  /**
   * The exit code for usage errors, when not 2. `check` uses 3 (UNKNOWN):
   * in the monitoring-plugins convention 2 means CRITICAL, and a typo in a
   * check's arguments must not page anyone as a critical alert.
   */
  usageExitCode?: number;
  /**
   * What a usage error prints on stdout, given its message and the command's
   * arguments. `check` uses it: a monitor reads only stdout, so even a bad
   * flag must give it a status line (or JSON with `--json`).
   */
  usageErrorStdout?(message: string, args: readonly string[]): string;
  /** Returns the exit code. Expected failures throw ExitError. */
  run(input: CommandInput): number | Promise<number>;
}

/** Options every command accepts; added by the parser, listed in every help. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", description: "Show this help" },
  "no-color": { type: "boolean", description: "Never colour the output (also: NO_COLOR=1)" },
};
