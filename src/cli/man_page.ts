/**
 * The man page, vmaudit(1), rendered from the command table: every visible
 * command with its arguments, options (placeholder, choices, default), exit
 * codes and examples, so the page changes when the table does and never
 * drifts from `--help` and the completions. The rest (description,
 * environment, files) is in man_facts.ts. Pure: returns the roff text;
 * `vmaudit help --man` prints it, scripts/build.ts writes it.
 *
 * Plain man(7) macros only (TH, SH, SS, PP, TP, RS/RE, nf/fi, br; nh, ad), which
 * groff, mandoc and every man implementation read; text goes through
 * roff.ts.
 */
import {
  COMMON_EXIT_CODES,
  COMMON_OPTIONS,
  type Command,
  type ExitCodeSpec,
  GLOBAL_OPTIONS,
  type OptionSpec,
  type OptionSpecs,
  type PositionalSpec,
} from "./command.ts";
import {
  ENVIRONMENT,
  FILES,
  type ManEntry,
  PROGRAM_DESCRIPTION,
  PROGRAM_SUMMARY,
  SEE_ALSO,
} from "./man_facts.ts";
import { paragraphs, RoffError, roffArg, roffLine, roffText } from "./roff.ts";

/** What the build knows: the version, and its date (YYYY-MM-DD, or empty). */
export interface ManPageBuild {
  version: string;
  date: string;
}

/** The page's sections, in order (man-pages(7)). */
export const MAN_SECTIONS = [
  "NAME",
  "SYNOPSIS",
  "DESCRIPTION",
  "COMMANDS",
  "OPTIONS",
  "EXIT STATUS",
  "ENVIRONMENT",
  "FILES",
  "EXAMPLES",
  "SEE ALSO",
] as const;

const bold = (text: string) => `\\fB${roffLine(text)}\\fR`;
const italic = (text: string) => `\\fI${roffLine(text)}\\fR`;

/** Prose as a sentence: a final period when it has none. */
function sentence(text: string): string {
  const t = text.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

/** `VALUE`, `[VALUE]` or `VALUE...`, as help writes a positional. */
function positionalUsage(p: PositionalSpec): string {
  return p.arity === "one" ? p.name : p.arity === "optional" ? `[${p.name}]` : `${p.name}...`;
}

/** The synopsis of a command: `vmaudit apply [options] [VALUE]`, in roff fonts. */
function commandSynopsis(c: Command): string {
  const positionals: readonly PositionalSpec[] = c.positionals ?? [];
  const args = positionals.map((p) => {
    const usage = positionalUsage(p);
    return usage.startsWith("[")
      ? `[${italic(p.name)}]`
      : usage.endsWith("...")
        ? `${italic(p.name)}...`
        : italic(p.name);
  });
  return [bold(`vmaudit ${c.name}`), `[${italic("options")}]`, ...args].join(" ");
}

/** `-n, --dry-run` or `--top N`, in roff fonts. */
function optionTag(name: string, o: OptionSpec): string {
  const names = [...(o.short ? [bold(`-${o.short}`)] : []), bold(`--${name}`)].join(", ");
  return o.kind === "value" ? `${names} ${italic(o.placeholder)}` : names;
}

/** An option's description, with its choices and default. */
function optionText(o: OptionSpec): string {
  const parts = [sentence(o.description)];
  if (o.kind === "value") {
    if (o.choices?.length) parts.push(`One of: ${o.choices.join(", ")}.`);
    if (o.defaultText !== undefined) parts.push(`Default: ${o.defaultText}.`);
  }
  return roffText(parts.join(" "));
}

function optionList(options: OptionSpecs): string[] {
  return Object.entries(options).flatMap(([name, o]) => [".TP", optionTag(name, o), optionText(o)]);
}

function exitCodeList(codes: readonly ExitCodeSpec[]): string[] {
  return codes.flatMap((e) => [".TP", bold(String(e.code)), roffText(sentence(e.meaning))]);
}

function entryList(entries: readonly ManEntry[], font: (text: string) => string): string[] {
  return entries.flatMap((e) => [".TP", font(e.name), roffText(e.meaning)]);
}

function prose(texts: readonly string[]): string[] {
  return texts.flatMap((p, i) => [...(i > 0 ? [".PP"] : []), roffText(p)]);
}

function section(name: (typeof MAN_SECTIONS)[number], body: string[]): string[] {
  return [`.SH ${roffArg(name)}`, ...body];
}

function commandsSection(commands: readonly Command[]): string[] {
  const out: string[] = [];
  for (const c of commands) {
    out.push(`.SS ${roffArg(`vmaudit ${c.name}`)}`, commandSynopsis(c), ".br");
    out.push(roffText(sentence(c.summary)));
    for (const p of paragraphs(c.description ?? "")) out.push(".PP", roffText(p));
    for (const p of (c.positionals ?? []) as readonly PositionalSpec[]) {
      const choices = p.choices?.length ? ` One of: ${p.choices.join(", ")}.` : "";
      out.push(".TP", italic(p.name), roffText(sentence(p.description) + choices));
    }
    if (Object.keys(c.options).length > 0)
      out.push(".PP", roffText(`Options: see OPTIONS, vmaudit ${c.name}.`));
  }
  // runMain's own: not in the table, since they run no command.
  out.push(
    `.SS ${roffArg("vmaudit help")}`,
    `${bold("vmaudit help")} [${italic("COMMAND")}]`,
    ".br",
    roffText(
      "The help of COMMAND (as vmaudit COMMAND --help), or the list of commands and exit codes (as vmaudit --help).",
    ),
    ".PP",
    bold("vmaudit help --man"),
    ".br",
    roffText("This page, as roff text on stdout. To read it: vmaudit help --man | man -l -"),
  );
  return out;
}

function optionsSection(commands: readonly Command[]): string[] {
  const out = [
    `.SS ${roffArg("Every command")}`,
    ...optionList(COMMON_OPTIONS),
    `.SS ${roffArg("Instead of a command")}`,
    roffText("As the first argument, in place of a command:"),
    ...optionList(GLOBAL_OPTIONS),
  ];
  for (const c of commands) {
    if (Object.keys(c.options).length === 0) continue;
    out.push(`.SS ${roffArg(`vmaudit ${c.name}`)}`, ...optionList(c.options));
  }
  return out;
}

function exitStatusSection(commands: readonly Command[]): string[] {
  const out = [
    roffText("The codes most commands share:"),
    ...exitCodeList(Object.values(COMMON_EXIT_CODES)),
    ".PP",
    roffText("What each command ends with:"),
  ];
  for (const c of commands) {
    out.push(`.SS ${roffArg(`vmaudit ${c.name}`)}`, ...exitCodeList(c.exitCodes));
    if (c.usageExitCode !== undefined)
      out.push(".PP", roffText(`A usage error exits ${c.usageExitCode}, not 2.`));
  }
  return out;
}

function examplesSection(commands: readonly Command[]): string[] {
  const out: string[] = [];
  for (const c of commands) {
    if (!c.examples?.length) continue;
    out.push(`.SS ${roffArg(`vmaudit ${c.name}`)}`, ".RS 4", ".nf");
    for (const e of c.examples) out.push(roffLine(e));
    out.push(".fi", ".RE");
  }
  return out;
}

/**
 * The date of the title line as written, `"2026-11-26"`: mandoc reads the
 * date only when its hyphens are plain, and only a date can be there.
 */
function thDate(date: string): string {
  if (date !== "" && !/^\d{4}-\d{2}-\d{2}$/.test(date))
    throw new RoffError(`Cannot date the man page "${date}": expected YYYY-MM-DD`);
  return `"${date}"`;
}

/**
 * The man page for the visible commands of `commands`.
 *
 * @example
 * renderManPage(COMMANDS, { version: "0.1.0", date: "2026-11-26" }).startsWith(".\\\""); // true
 */
export function renderManPage(commands: readonly Command[], build: ManPageBuild): string {
  const visible = commands.filter((c) => !c.hidden);
  const synopsis = [
    ...visible.map(commandSynopsis),
    `${bold("vmaudit help")} [${italic("COMMAND")}]`,
    bold("vmaudit help --man"),
    bold("vmaudit --version"),
  ];
  const lines = [
    `.\\" vmaudit(1), generated from the command table (src/commands/index.ts)`,
    `.\\" by src/cli/man_page.ts: change those, not this file.`,
    `.TH VMAUDIT 1 ${thDate(build.date)} ${roffArg(`vmaudit ${build.version}`)} ${roffArg("User Commands")}`,
    // No hyphenation and a ragged right margin: options, paths and commands
    // stay whole, to be found and copied as written.
    ".nh",
    ".ad l",
    ...section("NAME", [`vmaudit \\- ${roffText(PROGRAM_SUMMARY)}`]),
    ...section(
      "SYNOPSIS",
      synopsis.flatMap((s, i) => (i > 0 ? [".br", s] : [s])),
    ),
    ...section("DESCRIPTION", [
      ...prose(PROGRAM_DESCRIPTION),
      ".PP",
      roffText(
        "Each command below takes the options listed for it under OPTIONS, and the options of every command. vmaudit COMMAND --help prints the same for one command.",
      ),
    ]),
    ...section("COMMANDS", commandsSection(visible)),
    ...section("OPTIONS", optionsSection(visible)),
    ...section("EXIT STATUS", exitStatusSection(visible)),
    ...section("ENVIRONMENT", entryList(ENVIRONMENT, bold)),
    ...section("FILES", entryList(FILES, italic)),
    ...section("EXAMPLES", examplesSection(visible)),
    ...section("SEE ALSO", [SEE_ALSO.map((s) => `${bold(s.name)}(${s.section})`).join(", ")]),
  ];
  return `${lines.join("\n")}\n`;
}
