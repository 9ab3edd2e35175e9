/**
 * Help text, rendered from the command table. `renderUsage` returns a string;
 * the caller prints it.
 */
import { VERSION_LINE } from "../version.ts";
import {
  COMMON_OPTIONS,
  type Command,
  type OptionSpec,
  type OptionSpecs,
  type PositionalSpec,
  type PositionalSpecs,
} from "./command.ts";

function optionLabel(name: string, opt: OptionSpec): string {
  const short = opt.short ? `-${opt.short}, ` : "    ";
  const value = opt.kind === "value" ? ` ${opt.placeholder}` : "";
  return `${short}--${name}${value}`;
}

function optionLines(options: OptionSpecs): string[] {
  const entries = Object.entries(options);
  const labels = entries.map(([name, opt]) => optionLabel(name, opt));
  const width = Math.max(...labels.map((l) => l.length));
  return entries.map(([, opt], i) => {
    const def =
      opt.kind === "value" && opt.defaultText !== undefined ? ` (default: ${opt.defaultText})` : "";
    return `  ${labels[i]?.padEnd(width)}  ${opt.description}${def}`;
  });
}

/**
 * The help for one command.
 *
 * @example
 * renderCommandUsage(scanCommand).startsWith("Usage: vmaudit scan"); // true
 */
export function renderCommandUsage(command: Command): string {
  const positionals: PositionalSpecs = command.positionals ?? [];
  const pos = positionals
    .map((p) =>
      p.arity === "one" ? p.name : p.arity === "optional" ? `[${p.name}]` : `${p.name}...`,
    )
    .join(" ");
  const lines = [
    `Usage: vmaudit ${command.name} [options]${pos ? ` ${pos}` : ""}`,
    "",
    command.summary,
  ];
  if (command.description) lines.push("", command.description.trim());
  if (command.positionals?.length) {
    lines.push("", "Arguments:");
    const width = Math.max(...command.positionals.map((p: PositionalSpec) => p.name.length));
    for (const p of command.positionals) lines.push(`  ${p.name.padEnd(width)}  ${p.description}`);
  }
  lines.push("", "Options:", ...optionLines({ ...command.options, ...COMMON_OPTIONS }));
  if (command.examples?.length) {
    lines.push("", "Examples:", ...command.examples.map((e) => `  ${e}`));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The top-level help: the visible commands and the global flags.
 *
 * @example
 * renderRootUsage([scanCommand]).includes("scan"); // true
 */
export function renderRootUsage(commands: readonly Command[]): string {
  const visible = commands.filter((c) => !c.hidden);
  const width = Math.max(...visible.map((c) => c.name.length));
  return [
    `vmaudit ${VERSION_LINE}`,
    "Count the Virtual Memory Areas (VMAs) of every process and size vm.max_map_count.",
    "",
    "Usage: vmaudit <command> [options]",
    "",
    "Commands:",
    ...visible.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    "  -h, --help     Show help (also: vmaudit <command> --help)",
    "  -V, --version  Show the version",
    "  help --man     Print the manual page (read it with: vmaudit help --man | man -l -)",
    "",
    "Exit codes:",
    "  0         ok",
    "  1         the operation or a check failed",
    "  2         usage error (a bad command, flag or value), or a value a guard refuses",
    "  77        the command needs root",
    "  130, 143  stress was stopped by SIGINT or SIGTERM (after restoring the limit)",
    "  check follows the monitoring-plugins convention instead:",
    "  0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (its usage errors included)",
    "",
  ].join("\n");
}
