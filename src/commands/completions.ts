/**
 * `vmaudit completions SHELL`: print a completion script for bash, zsh or
 * fish, generated from the command table. The command's metadata;
 * `completions.run.ts` renders the script.
 */
import { COMMON_EXIT_CODES, type CommandInput, defineCommand } from "../cli/command.ts";
import { positional } from "../cli/options.ts";
import { UsageError } from "../errors.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * The shell argument, checked.
 *
 * @example
 * parseShell("zsh"); // "zsh"
 * parseShell("tcsh"); // throws UsageError
 */
export function parseShell(raw: string | undefined): Shell {
  const shell = SHELLS.find((s) => s === raw);
  if (!shell) {
    throw new UsageError(
      `Unknown shell "${raw ?? ""}": expected one of ${SHELLS.join(", ")}`,
      "completions",
    );
  }
  return shell;
}

const positionals = [
  positional({
    name: "SHELL",
    description: "bash, zsh or fish",
    arity: "one",
    choices: SHELLS,
    parse: parseShell,
  }),
] as const;

export type CompletionsRun = CommandInput<Record<string, never>, typeof positionals>;

export const completionsCommand = defineCommand({
  name: "completions",
  summary: "Print a shell completion script (bash, zsh or fish)",
  description: `
The script completes command names and each command's options, generated from
the same command table as --help.`,
  options: {},
  positionals,
  examples: [
    "source <(vmaudit completions bash)",
    "vmaudit completions bash > /usr/share/bash-completion/completions/vmaudit",
    "vmaudit completions zsh > /usr/local/share/zsh/site-functions/_vmaudit",
    "vmaudit completions fish > ~/.config/fish/completions/vmaudit.fish",
  ],
  exitCodes: [COMMON_EXIT_CODES.ok, COMMON_EXIT_CODES.usage],
  load: () => import("./completions.run.ts"),
});
