/**
 * The man page as roff text, from the real command table and from made-up
 * ones: roff escaping, the sections in order, every command, option,
 * argument, exit code and example of the table in it, and ENVIRONMENT equal
 * to the environment variables the source reads. What groff, man and mandoc
 * make of it is test/e2e/man_page.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  COMMON_EXIT_CODES,
  COMMON_OPTIONS,
  type Command,
  defineCommand,
  GLOBAL_OPTIONS,
  type OptionSpec,
  type PositionalSpec,
} from "../../src/cli/command.ts";
import { ENVIRONMENT, FILES } from "../../src/cli/man_facts.ts";
import { MAN_SECTIONS, renderManPage } from "../../src/cli/man_page.ts";
import { flag, int, positional } from "../../src/cli/options.ts";
import {
  paragraphs,
  ROFF_LINE_WIDTH,
  RoffError,
  roffArg,
  roffLine,
  roffText,
} from "../../src/cli/roff.ts";
import { COMMANDS } from "../../src/commands/index.ts";
import { journalPath, runDir } from "../../src/limit/journal.ts";
import { CONF_DIR, DEFAULT_CONF_NAME } from "../../src/sysctl/conf_name.ts";
import { PROCPS_DIRS, SYSCTL_CONF } from "../../src/sysctl/precedence.ts";

const REPO = join(import.meta.dir, "..", "..");
const BUILD = { version: "1.2.3", date: "2026-11-26" };

/**
 * The text a roff line stands for: the inverse of roff.ts for the escapes it
 * writes, and font changes dropped. (groff itself is the oracle in the e2e
 * test; this one reads the page's source.)
 */
function unroff(line: string): string {
  const named: Record<string, string> = { aq: "'", ga: "`", ha: "^", ti: "~", dq: '"' };
  return line.replace(/\\(f[BIR]|&|-|e|\(([a-z]{2})|\[u([0-9A-F]{4,6})\])/g, (m, what, name, u) => {
    if (what.startsWith("f") || what === "&") return "";
    if (what === "-") return "-";
    if (what === "e") return "\\";
    if (name) return named[name] ?? m;
    return String.fromCodePoint(Number.parseInt(u, 16));
  });
}

/** The page's lines under `.SH name` (up to the next .SH). */
function sectionLines(page: string, name: string): string[] {
  const lines = page.trimEnd().split("\n");
  const start = lines.indexOf(`.SH ${roffArg(name)}`);
  expect([name, start]).not.toEqual([name, -1]);
  const end = lines.findIndex((l, i) => i > start && l.startsWith(".SH "));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Lines of a section under `.SS title` (up to the next .SS), or undefined. */
function subsection(lines: string[], title: string): string[] | undefined {
  const start = lines.indexOf(`.SS ${roffArg(title)}`);
  if (start < 0) return undefined;
  const end = lines.findIndex((l, i) => i > start && l.startsWith(".SS "));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** `.TP` entries of some lines: the tag line and the text of the lines up to the next macro. */
function taggedEntries(lines: string[]): { tag: string; text: string }[] {
  const entries: { tag: string; text: string }[] = [];
  lines.forEach((l, i) => {
    if (l !== ".TP") return;
    const body: string[] = [];
    for (let j = i + 2; j < lines.length && !(lines[j] as string).startsWith("."); j++)
      body.push(lines[j] as string);
    entries.push({ tag: lines[i + 1] as string, text: unroff(body.join(" ")) });
  });
  return entries;
}

describe("roff escaping (src/cli/roff.ts)", () => {
  const lineCases: [string, string, string][] = [
    ["an option's hyphens become minus signs", "--top N", "\\-\\-top N"],
    ["a backslash becomes \\e", "C:\\Windows\\x.exe", "C:\\eWindows\\ex.exe"],
    ["a leading dot gets \\& so it is not a request", ".TH evil", "\\&.TH evil"],
    ["a leading apostrophe is \\(aq, never a control line", "'br", "\\(aqbr"],
    ["quotes, grave, caret and tilde stay ASCII", "a'b`c^d~e", "a\\(aqb\\(gac\\(had\\(tie"],
    ["a dot inside a line stays", "a.b .c", "a.b .c"],
    ["beyond ASCII: \\[uXXXX], astral planes too", "é…😀", "\\[u00E9]\\[u2026]\\[u1F600]"],
    ["font escapes in the text are shown, not obeyed", "\\fBbold", "\\efBbold"],
  ];
  for (const [what, input, output] of lineCases) {
    test(`roffLine: ${what}`, () => {
      expect(roffLine(input)).toBe(output);
      expect(unroff(roffLine(input))).toBe(input);
    });
  }

  for (const [name, ch] of [
    ["ESC", "\u001b"],
    ["TAB", "\t"],
    ["NUL", "\u0000"],
    ["newline", "\n"],
    ["DEL", "\u007f"],
    ["C1 NEL", "\u0085"],
  ] as const) {
    test(`roffLine refuses a control character (${name})`, () => {
      expect(() => roffLine(`a${ch}b`)).toThrow(RoffError);
      expect(() => roffLine(`a${ch}b`)).toThrow(/^Cannot put U\+00[0-9A-F]{2} in a man page/);
    });
  }

  test("roffText joins source lines, starts a line after each sentence, and keeps lines short", () => {
    const text =
      "Reads /proc/PID/maps\n   of every process. Then it reports the processes with the most VMAs, statistics per application, the total and a recommendation!";
    const lines = roffText(text).split("\n");
    expect(lines[0]).toBe("Reads /proc/PID/maps of every process.");
    expect(lines[1]).toStartWith("Then it reports");
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(ROFF_LINE_WIDTH);
    expect(unroff(lines.join(" "))).toBe(text.replace(/\s+/g, " "));
  });

  test("roffText guards a line that a sentence break leaves starting with a dot", () => {
    expect(roffText("Names end in .conf. .conf files only.")).toBe(
      "Names end in .conf.\n\\&.conf files only.",
    );
  });

  test("roffText keeps a word longer than a line whole", () => {
    const long = `/${"x".repeat(100)}`;
    expect(roffText(`see ${long} now`).split("\n")).toEqual(["see", long, "now"]);
  });

  test("roffArg quotes an argument with spaces and escapes the quote inside", () => {
    expect(roffArg("scan")).toBe("scan");
    expect(roffArg("vmaudit scan")).toBe('"vmaudit scan"');
    expect(roffArg('say "hi"')).toBe('"say \\(dqhi\\(dq"');
    expect(roffArg("")).toBe('""');
  });

  test("paragraphs() splits on blank lines and joins the lines of each", () => {
    expect(paragraphs("\na\nb\n\n  \nc  d\n")).toEqual(["a b", "c d"]);
  });
});

const page = renderManPage(COMMANDS, BUILD);
const lines = page.split("\n");
const visible = COMMANDS.filter((c) => !c.hidden);

/** The tag line the page gives an option, built here independently of man_page.ts. */
function expectedTag(name: string, o: OptionSpec): string {
  const b = (s: string) => `\\fB${s.replaceAll("-", "\\-")}\\fR`;
  const names = [...(o.short ? [b(`-${o.short}`)] : []), b(`--${name}`)].join(", ");
  return o.kind === "value" ? `${names} \\fI${o.placeholder}\\fR` : names;
}

describe("renderManPage() with the command table", () => {
  test("the sections are NAME ... SEE ALSO, in the usual order", () => {
    const sections = lines.filter((l) => l.startsWith(".SH ")).map((l) => unroff(l.slice(4)));
    expect(sections.map((s) => s.replace(/^"|"$/g, ""))).toEqual([...MAN_SECTIONS]);
    expect(MAN_SECTIONS.at(-1)).toBe("SEE ALSO");
  });

  test("the title line has the name, section, date and version", () => {
    expect(lines).toContain('.TH VMAUDIT 1 "2026-11-26" "vmaudit 1.2.3" "User Commands"');
    expect(sectionLines(page, "NAME")).toEqual([
      "vmaudit \\- count the VMAs of every process and size vm.max_map_count",
    ]);
  });

  test("a date that is not YYYY-MM-DD is refused; an empty one is left empty", () => {
    expect(() => renderManPage(COMMANDS, { version: "1", date: "26 Nov" })).toThrow(
      'Cannot date the man page "26 Nov": expected YYYY-MM-DD',
    );
    expect(renderManPage(COMMANDS, { version: "1", date: "" })).toContain(
      '.TH VMAUDIT 1 "" "vmaudit 1" "User Commands"',
    );
  });

  test("SEE ALSO names sysctl(8), sysctl.d(5) and proc(5)", () => {
    expect(unroff(sectionLines(page, "SEE ALSO").join(" "))).toBe(
      "sysctl(8), sysctl.d(5), proc(5)",
    );
  });

  test(`every visible command (${visible.length}) is in SYNOPSIS and COMMANDS with its summary, description and arguments; hidden ones nowhere`, () => {
    const synopsis = sectionLines(page, "SYNOPSIS").map(unroff);
    const commands = sectionLines(page, "COMMANDS");
    for (const c of visible) {
      expect(synopsis.some((l) => l.startsWith(`vmaudit ${c.name} [options]`))).toBe(true);
      const sub = subsection(commands, `vmaudit ${c.name}`);
      expect([c.name, sub !== undefined]).toEqual([c.name, true]);
      const text = unroff((sub ?? []).filter((l) => !l.startsWith(".")).join(" "));
      expect(text).toContain(c.summary);
      for (const p of paragraphs(c.description ?? "")) expect(text).toContain(p);
      for (const p of (c.positionals ?? []) as PositionalSpec[]) {
        const entry = taggedEntries(sub ?? []).find((e) => e.tag === `\\fI${p.name}\\fR`);
        expect([c.name, p.name, entry?.text]).toEqual([
          c.name,
          p.name,
          expect.stringContaining(p.description),
        ]);
        for (const choice of p.choices ?? []) expect(entry?.text).toContain(choice);
      }
    }
    for (const c of COMMANDS.filter((c) => c.hidden)) expect(page).not.toContain(c.name);
    expect(synopsis).toContain("vmaudit help [COMMAND]");
    expect(synopsis).toContain("vmaudit help --man");
    expect(synopsis).toContain("vmaudit --version");
  });

  test("every option of every command is under OPTIONS with its placeholder, choices and default", () => {
    const options = sectionLines(page, "OPTIONS");
    let count = 0;
    const check = (title: string, specs: Record<string, OptionSpec>) => {
      const entries = taggedEntries(subsection(options, title) ?? []);
      for (const [name, o] of Object.entries(specs)) {
        count++;
        const entry = entries.find((e) => e.tag === expectedTag(name, o));
        expect([title, name, entry !== undefined]).toEqual([title, name, true]);
        const text = entry?.text ?? "";
        expect(text).toContain(o.description);
        if (o.kind === "value") {
          if (o.defaultText !== undefined) expect(text).toContain(`Default: ${o.defaultText}.`);
          else expect(text).not.toContain("Default: ");
          if (o.choices) expect(text).toContain(`One of: ${o.choices.join(", ")}.`);
        }
      }
      expect(entries).toHaveLength(Object.keys(specs).length);
    };
    check("Every command", COMMON_OPTIONS);
    check("Instead of a command", GLOBAL_OPTIONS);
    for (const c of visible) {
      if (Object.keys(c.options).length === 0)
        expect(subsection(options, `vmaudit ${c.name}`)).toBeUndefined();
      else check(`vmaudit ${c.name}`, c.options);
    }
    console.log(`man page: ${count} option entries checked`);
  });

  test("every exit code of every command is under EXIT STATUS, and the common ones", () => {
    const exit = sectionLines(page, "EXIT STATUS");
    const codesOf = (entries: { tag: string; text: string }[]) =>
      entries.map((e) => [unroff(e.tag), e.text]);
    const common = codesOf(
      taggedEntries(
        exit.slice(
          0,
          exit.findIndex((l) => l.startsWith(".SS")),
        ),
      ),
    );
    expect(common).toEqual(
      Object.values(COMMON_EXIT_CODES).map((e) => [String(e.code), `${e.meaning}.`]),
    );
    for (const c of visible) {
      const sub = subsection(exit, `vmaudit ${c.name}`) ?? [];
      expect([c.name, codesOf(taggedEntries(sub))]).toEqual([
        c.name,
        c.exitCodes.map((e) => [
          String(e.code),
          e.meaning.endsWith(".") ? e.meaning : `${e.meaning}.`,
        ]),
      ]);
      const usage = unroff(sub.join(" ")).includes(
        `A usage error exits ${c.usageExitCode}, not 2.`,
      );
      expect([c.name, usage]).toEqual([c.name, c.usageExitCode !== undefined]);
    }
  });

  test("every example of every command is a line of EXAMPLES, as written", () => {
    const examples = sectionLines(page, "EXAMPLES");
    for (const c of visible) {
      const sub = subsection(examples, `vmaudit ${c.name}`);
      if (!c.examples?.length) {
        expect(sub).toBeUndefined();
        continue;
      }
      const body = sub ?? [];
      expect(body.slice(0, 2)).toEqual([".RS 4", ".nf"]);
      expect(body.slice(2, 2 + c.examples.length).map(unroff)).toEqual([...c.examples]);
    }
  });

  test("ENVIRONMENT and FILES list their entries", () => {
    const env = taggedEntries(sectionLines(page, "ENVIRONMENT"));
    expect(env.map((e) => unroff(e.tag))).toEqual(ENVIRONMENT.map((e) => e.name));
    expect(env.map((e) => e.text)).toEqual(ENVIRONMENT.map((e) => e.meaning));
    const files = taggedEntries(sectionLines(page, "FILES"));
    expect(files.map((e) => unroff(e.tag))).toEqual(FILES.map((e) => e.name));
  });

  test("every line is a known request or text: no blank line, no control line, no control character, text lines of at most 80 bytes", () => {
    const requests = /^\.(\\" |TH |SH |SS |PP$|TP$|RS 4$|RE$|nf$|fi$|br$|nh$|ad l$)/;
    let inNoFill = false;
    expect(page.endsWith("\n")).toBe(true);
    for (const l of lines.slice(0, -1)) {
      expect([l, l.trim() === ""]).toEqual([l, false]);
      if (l.startsWith(".")) expect([l, requests.test(l)]).toEqual([l, true]);
      expect([l, l.startsWith("'")]).toEqual([l, false]);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them
      expect([l, /[\u0000-\u001f\u007f-\uffff]/.test(l)]).toEqual([l, false]);
      if (l === ".nf") inNoFill = true;
      if (l === ".fi") inNoFill = false;
      if (!inNoFill && !l.startsWith('.\\"'))
        expect([l, l.length <= ROFF_LINE_WIDTH]).toEqual([l, true]);
    }
  });
});

describe("renderManPage() with other tables", () => {
  const hostileOptions = {
    ".TH": flag("'br\\fB bold? .SH NOT A SECTION é"),
    level: int({ placeholder: "N", description: "A number", default: 3 }),
  };
  const hostile = defineCommand({
    name: "hostile",
    summary: ".SH injected summary",
    description: `
.TH line of the description
'sp another

\\fI not italic, a "quote" and a backslash \\`,
    options: hostileOptions,
    positionals: [
      positional({ name: "ARG", description: ".nf", arity: "many", parse: (raw) => raw }),
    ],
    examples: [".so /etc/passwd", "'br", "  indented \\ and ~ and -x"],
    exitCodes: [{ code: 42, meaning: ".ft B" }],
    usageExitCode: 5,
    load: async () => ({ run: () => 0 }),
  });

  test("a command added to the table is in every section that lists commands, with nothing else to change", () => {
    const added = renderManPage([...COMMANDS, hostile], BUILD);
    for (const s of ["SYNOPSIS", "COMMANDS", "OPTIONS", "EXIT STATUS", "EXAMPLES"])
      expect([s, unroff(sectionLines(added, s).join("\n")).includes("vmaudit hostile")]).toEqual([
        s,
        true,
      ]);
    expect(
      taggedEntries(subsection(sectionLines(added, "OPTIONS"), "vmaudit hostile") ?? []).map((e) =>
        unroff(e.tag),
      ),
    ).toEqual(["--.TH", "--level N"]);
  });

  test("text that looks like roff stays text: every control line is one of the page's own", () => {
    const text = renderManPage([hostile], BUILD);
    const own = /^\.(\\" |TH VMAUDIT |SH |SS |PP$|TP$|RS 4$|RE$|nf$|fi$|br$|nh$|ad l$)/;
    const controls = text.split("\n").filter((l) => l.startsWith(".") || l.startsWith("'"));
    expect(controls.filter((l) => !own.test(l))).toEqual([]);
    expect(controls.filter((l) => l.startsWith(".SH ")).length).toBe(MAN_SECTIONS.length);
    const examples = subsection(sectionLines(text, "EXAMPLES"), "vmaudit hostile") ?? [];
    expect(examples.slice(2, 5).map(unroff)).toEqual([...(hostile.examples ?? [])]);
    const commands = unroff(sectionLines(text, "COMMANDS").join(" "));
    expect(commands).toContain('\\fI not italic, a "quote" and a backslash \\');
  });

  test("a control character anywhere in the table is refused, not written", () => {
    const bad: Command = { ...hostile, summary: "red \u001b[31m text" };
    expect(() => renderManPage([bad], BUILD)).toThrow(RoffError);
  });

  test("hidden commands are left out; a table of only hidden ones still renders every section", () => {
    const hidden: Command = { ...hostile, hidden: true };
    const text = renderManPage([hidden], BUILD);
    expect(text).not.toContain("hostile");
    expect(text.split("\n").filter((l) => l.startsWith(".SH ")).length).toBe(MAN_SECTIONS.length);
  });
});

describe("ENVIRONMENT and FILES against the code (src/cli/man_facts.ts)", () => {
  /** Every .ts file vmaudit is built from. */
  function sourceFiles(): string[] {
    const out = [join(REPO, "main.ts")];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.name.endsWith(".ts")) out.push(path);
      }
    };
    walk(join(REPO, "src"));
    walk(join(REPO, "stress"));
    return out;
  }
  const sources = sourceFiles().map((path) => ({
    path: path.slice(REPO.length + 1),
    text: readFileSync(path, "utf8"),
  }));

  test("the finder sees the reads it is known to have", () => {
    const found = envReads();
    expect(found.get("NO_COLOR")).toContain("src/render/color.ts");
    expect(found.get("VMAUDIT_RUN_DIR")).toContain("src/limit/journal.ts");
  });

  /**
   * Variable name -> files that read it: `env.NAME`, `env?.NAME` and
   * `env["NAME"]` on any environment object (`io.env`, `process.env`, a
   * parameter named env), and `Bun.env`.
   */
  function envReads(): Map<string, string[]> {
    const reads = new Map<string, string[]>();
    const patterns = [
      /\b(?:env|Bun\.env)\s*\??\.\s*([A-Z_][A-Z0-9_]*)\b/g,
      /\b(?:env|Bun\.env)\s*\??\.?\[\s*["'`]([A-Z_][A-Z0-9_]*)["'`]\s*\]/g,
    ];
    for (const { path, text } of sources)
      for (const re of patterns)
        for (const m of text.matchAll(re)) {
          const name = m[1] as string;
          reads.set(name, [...new Set([...(reads.get(name) ?? []), path])]);
        }
    return reads;
  }

  test("every environment variable the source reads is in ENVIRONMENT, and every one there is read", () => {
    const read = [...envReads().keys()].sort();
    console.log(`environment variables read by the source: ${read.join(", ")}`);
    expect(ENVIRONMENT.map((e) => e.name).sort()).toEqual(read);
  });

  test("the source reads the environment only in forms the finder sees (no computed names, no destructuring)", () => {
    const hidden = [
      /\b(?:env|Bun\.env)\s*\??\.?\[\s*(?!["'`])/, // env[name]
      /\{[^}]*\}\s*=\s*(?:[\w.]+\.)?env\b/, // const { X } = io.env
      /\bObject\.(?:keys|entries|values)\(\s*(?:[\w.]+\.)?env\s*\)/, // iterating it
      /\bgetenv\b/,
    ];
    const bad = sources.flatMap(({ path, text }) =>
      hidden.filter((re) => re.test(text)).map((re) => `${path}: ${re}`),
    );
    expect(bad).toEqual([]);
  });

  test("FILES has the paths the code uses", () => {
    const names = FILES.map((f) => f.name);
    expect(names).toContain(journalPath(runDir({})));
    expect(names).toContain(`${CONF_DIR}/${DEFAULT_CONF_NAME}`);
    const sysctl = FILES.find((f) => f.name === "sysctl.d/*.conf")?.meaning ?? "";
    for (const dir of PROCPS_DIRS) expect(sysctl).toContain(`${dir}/*.conf`);
    expect(sysctl).toContain(SYSCTL_CONF);
  });
});
