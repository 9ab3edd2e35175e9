/**
 * `vmaudit completions SHELL`: print a completion script for bash, zsh or
 * fish, generated from the command table.
 */
import type { Command } from "../cli/command.ts";
import { renderCompletion, SHELLS, type Shell } from "../cli/completions.ts";
import { EXIT_OK, UsageError } from "../errors.ts";

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

export const completionsCommand: Command = {
  name: "completions",
  summary: "Print a shell completion script (bash, zsh or fish)",
  description: `
The script completes command names and each command's options, generated from
the same command table as --help.`,
  options: {},
  positionals: [{ name: "SHELL", description: "bash, zsh or fish", choices: [...SHELLS] }],
  examples: [
    "source <(vmaudit completions bash)",
    "vmaudit completions bash > /usr/share/bash-completion/completions/vmaudit",
    "vmaudit completions zsh > /usr/local/share/zsh/site-functions/_vmaudit",
    "vmaudit completions fish > ~/.config/fish/completions/vmaudit.fish",
  ],
  async run({ positionals, io }) {
    const shell = parseShell(positionals[0]);
    // Imported here, not at the top: the table imports this module, so a
    // static import would be a cycle that leaves one side uninitialised.
    const { COMMANDS } = await import("./index.ts");
    io.stdout(renderCompletion(shell, COMMANDS));
    return EXIT_OK;
  },
};
