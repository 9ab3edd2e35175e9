/**
 * The man page of the compiled binary (`vmaudit help --man`) read by the
 * tools that define man pages: groff (`-man -ww`, and rendered with tbl to
 * UTF-8 text), man-db's `man -l`, and mandoc's linter. What they print must
 * hold every command, option, argument, exit code and example of the command
 * table, as written. Also `npm run man` and the usage error of `help --man`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDate, manPageText } from "../../scripts/build.ts";
import {
  COMMON_EXIT_CODES,
  COMMON_OPTIONS,
  defineCommand,
  GLOBAL_OPTIONS,
  type OptionSpec,
  type PositionalSpec,
} from "../../src/cli/command.ts";
import { ENVIRONMENT, FILES } from "../../src/cli/man_facts.ts";
import { MAN_SECTIONS, renderManPage } from "../../src/cli/man_page.ts";
import { flag, positional } from "../../src/cli/options.ts";
import { COMMANDS } from "../../src/commands/index.ts";
import { REPO, runBinary } from "../helpers/env.ts";

const dir = mkdtempSync(join(tmpdir(), "vmaudit-man-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string[], env: Record<string, string> = {}): Run {
  const tool = cmd[0] as string;
  if (!Bun.which(tool))
    throw new Error(`${tool} is missing: run 'bash scripts/test-deps.sh' as root`);
  const p = Bun.spawnSync(cmd, {
    env: { ...process.env, LC_ALL: "C.UTF-8", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const printed = runBinary(["help", "--man"]);
const PAGE = join(dir, "vmaudit.1");
writeFileSync(PAGE, printed.stdout);
const visible = COMMANDS.filter((c) => !c.hidden);

/** groff's UTF-8 rendering as plain text (no overstriking, no SGR), tbl run first. */
function groffText(file: string): Run {
  return run(["groff", "-man", "-t", "-Tutf8", "-ww", "-P-cbou", file]);
}

/** man -l as a user runs it, without pager or terminal: plain text, 80 columns. */
function manText(file: string): Run {
  return run(["man", "--warnings", "-l", file], { MANPAGER: "cat", PAGER: "cat", MANWIDTH: "80" });
}

/** The rendered lines from `heading` (a section heading line) to the next heading or the footer. */
function renderedSection(text: string, heading: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(heading);
  expect([heading, start]).not.toEqual([heading, -1]);
  const end = lines.findIndex(
    (l, i) => i > start && (/^[A-Z][A-Z ]+$/.test(l) || /^vmaudit .*VMAUDIT\(1\)$/.test(l)),
  );
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** A subsection (`   vmaudit scan`) of rendered section lines, up to the next one. */
function renderedSub(lines: string[], title: string): string[] {
  const start = lines.indexOf(`   ${title}`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^ {3}\S/.test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Lines as one string with runs of blanks as one space: text filled across lines is found whole. */
const flat = (lines: string[]) => lines.join(" ").replace(/\s+/g, " ");

/** An option as the page's tag shows it: `-n, --dry-run`, `--top N`. */
function optionTag(name: string, o: OptionSpec): string {
  const names = [...(o.short ? [`-${o.short}`] : []), `--${name}`].join(", ");
  return o.kind === "value" ? `${names} ${o.placeholder}` : names;
}

describe("vmaudit help --man (the compiled binary)", () => {
  test("prints the page scripts/build.ts renders for this checkout: the table, the version, the build's date", () => {
    expect(printed.stderr).toBe("");
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(manPageText());
    expect(printed.stdout).toMatch(/^\.TH VMAUDIT 1 "\d{4}-\d\d-\d\d" "vmaudit [^"]+" /m);
    expect(printed.stdout).toContain(`.TH VMAUDIT 1 "${buildDate()}"`);
  });

  test("help --man with anything after it is a usage error that prints nothing on stdout", () => {
    const r = runBinary(["help", "--man", "scan"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `vmaudit: Unexpected argument "scan": expected nothing after help --man\nRun 'vmaudit --help' for usage\n`,
    );
    expect(r.code).toBe(2);
  });

  test("vmaudit --help points to it", () => {
    expect(runBinary(["--help"]).stdout).toMatch(/^ {2}help --man +Print the manual page/m);
  });
});

describe("groff", () => {
  test("groff -man -ww -z: no warning, exit 0", () => {
    const r = run(["groff", "-man", "-ww", "-z", PAGE]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  const rendered = groffText(PAGE);

  test("groff -man -t -Tutf8 -ww renders it without a warning", () => {
    expect(rendered.stderr).toBe("");
    expect(rendered.code).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no overstrikes or escapes left
    expect(rendered.stdout).not.toMatch(/[\u0008\u001b]/);
  });

  test("the sections are NAME ... SEE ALSO, in order, and NAME says what vmaudit is", () => {
    const headings = rendered.stdout.split("\n").filter((l) => /^[A-Z][A-Z ]+$/.test(l));
    expect(headings).toEqual([...MAN_SECTIONS]);
    expect(renderedSection(rendered.stdout, "NAME").map((l) => l.trim())).toContain(
      "vmaudit - count the VMAs of every process and size vm.max_map_count",
    );
    expect(flat(renderedSection(rendered.stdout, "SEE ALSO")).trim()).toBe(
      "sysctl(8), sysctl.d(5), proc(5)",
    );
  });

  test(`every visible command (${visible.length}) and its arguments, as printed`, () => {
    const synopsis = renderedSection(rendered.stdout, "SYNOPSIS").map((l) => l.trim());
    const commands = renderedSection(rendered.stdout, "COMMANDS");
    for (const c of visible) {
      expect(synopsis.some((l) => l.startsWith(`vmaudit ${c.name} [options]`))).toBe(true);
      const sub = renderedSub(commands, `vmaudit ${c.name}`);
      expect([c.name, flat(sub)]).toEqual([c.name, expect.stringContaining(c.summary)]);
      for (const p of (c.positionals ?? []) as PositionalSpec[]) {
        expect(flat(sub)).toContain(`${p.name} ${p.description}`);
        for (const choice of p.choices ?? []) expect(flat(sub)).toContain(choice);
      }
    }
  });

  test("every option of the table, with its placeholder, choices and default, as printed", () => {
    const options = renderedSection(rendered.stdout, "OPTIONS");
    const check = (title: string, specs: Record<string, OptionSpec>) => {
      const sub = renderedSub(options, title);
      const text = flat(sub);
      for (const [name, o] of Object.entries(specs)) {
        const tag = optionTag(name, o);
        // A tag stands alone on its line, or (when short) before its text.
        const at = sub.findIndex((l) => l.trim() === tag || l.trim().startsWith(`${tag} `));
        expect([title, tag, at >= 0]).toEqual([title, tag, true]);
        expect([title, tag, text.includes(o.description)]).toEqual([title, tag, true]);
        if (o.kind === "value" && o.defaultText !== undefined)
          expect(text).toContain(
            `${o.description}. ${o.choices ? `One of: ${o.choices.join(", ")}. ` : ""}Default: ${o.defaultText}.`,
          );
      }
    };
    check("Every command", COMMON_OPTIONS);
    check("Instead of a command", GLOBAL_OPTIONS);
    for (const c of visible)
      if (Object.keys(c.options).length > 0) check(`vmaudit ${c.name}`, c.options);
  });

  test("every exit code, every example, every environment variable and file, as printed", () => {
    const exit = renderedSection(rendered.stdout, "EXIT STATUS");
    const codeLine = (lines: string[], code: number, meaning: string) =>
      flat(lines).includes(` ${code} ${meaning}`);
    for (const e of Object.values(COMMON_EXIT_CODES))
      expect([e.code, codeLine(exit, e.code, e.meaning)]).toEqual([e.code, true]);
    for (const c of visible)
      for (const e of c.exitCodes)
        expect([
          c.name,
          e.code,
          codeLine(renderedSub(exit, `vmaudit ${c.name}`), e.code, e.meaning),
        ]).toEqual([c.name, e.code, true]);
    const examples = renderedSection(rendered.stdout, "EXAMPLES").map((l) => l.trim());
    for (const c of visible) for (const e of c.examples ?? []) expect(examples).toContain(e);
    const env = flat(renderedSection(rendered.stdout, "ENVIRONMENT"));
    for (const e of ENVIRONMENT) expect(env).toContain(`${e.name} ${e.meaning}`);
    const files = renderedSection(rendered.stdout, "FILES").map((l) => l.trim());
    for (const f of FILES)
      expect(files.some((l) => l === f.name || l.startsWith(`${f.name} `))).toBe(true);
  });

  test("roff in the table's text is printed as text (a made-up hostile command)", () => {
    const hostile = defineCommand({
      name: "hostile",
      summary: ".SH injected",
      description: `\n.TH x\n'br y\n\n\\fB not bold \\ and ~ ^ \` ' " é`,
      options: { ".so": flag("'sp .ft B \\(aq") },
      positionals: [positional({ name: "A", description: ".nf", arity: "one", parse: (r) => r })],
      examples: [".so /etc/passwd", "'br", "cmd --x 'a b' \\ ~/y ^z `w`"],
      exitCodes: [{ code: 42, meaning: ".ft I" }],
      load: async () => ({ run: () => 0 }),
    });
    const file = join(dir, "hostile.1");
    writeFileSync(file, renderManPage([hostile], { version: "9", date: "2026-01-02" }));
    const warn = run(["groff", "-man", "-ww", "-z", file]);
    expect(warn.stderr).toBe("");
    const r = groffText(file);
    expect(r.stderr).toBe("");
    const text = r.stdout;
    expect(text.split("\n").filter((l) => /^[A-Z][A-Z ]+$/.test(l))).toEqual([...MAN_SECTIONS]);
    const all = flat(text.split("\n"));
    for (const s of [
      ".SH injected.",
      ".TH x 'br y",
      "\\fB not bold \\ and ~ ^ ` ' \" é",
      "--.so",
      "'sp .ft B \\(aq.",
      "A .nf.",
      "42 .ft I.",
    ])
      expect([s, all.includes(s)]).toEqual([s, true]);
    const examples = text.split("\n").map((l) => l.trim());
    for (const e of hostile.examples ?? []) expect(examples).toContain(e);
  });
});

describe("man -l", () => {
  const r = manText(PAGE);

  test("renders it with no warning (man --warnings, MANWIDTH=80, no pager)", () => {
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^VMAUDIT\(1\) +User Commands +VMAUDIT\(1\)$/);
    expect(lines.filter((l) => /^[A-Z][A-Z ]+$/.test(l))).toEqual([...MAN_SECTIONS]);
    // Filled text fits MANWIDTH; only the examples (no-fill, as written) may not.
    const examples = new Set(renderedSection(r.stdout, "EXAMPLES"));
    for (const l of lines.filter((l) => !examples.has(l)))
      expect([l, l.length <= 80]).toEqual([l, true]);
  });

  test("the footer has the version and the build's date", () => {
    const footer = r.stdout.trimEnd().split("\n").at(-1) ?? "";
    const version = /"vmaudit ([^"]+)"/.exec(printed.stdout)?.[1];
    expect(footer).toMatch(
      new RegExp(`^vmaudit ${version?.replaceAll(".", "\\.")} +${buildDate()} +VMAUDIT\\(1\\)$`),
    );
  });

  test("every option tag of the table is on a line of its own or starts one", () => {
    const lines = r.stdout.split("\n").map((l) => l.trim());
    for (const c of visible)
      for (const [name, o] of Object.entries(c.options as Record<string, OptionSpec>)) {
        const tag = optionTag(name, o);
        expect([c.name, tag, lines.some((l) => l === tag || l.startsWith(`${tag} `))]).toEqual([
          c.name,
          tag,
          true,
        ]);
      }
  });
});

describe("mandoc -Tlint", () => {
  test("finds nothing to say, style included", () => {
    const r = run(["mandoc", "-Tlint", "-W", "style", PAGE]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("npm run man", () => {
  test("writes the page the binary prints, mode 0644, to --out", () => {
    const out = join(dir, "out", "vmaudit.1");
    const r = run([process.execPath, join(REPO, "scripts", "build.ts"), "--man", "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(printed.stdout);
    expect(statSync(out).mode & 0o777).toBe(0o644);
    expect(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).scripts.man).toBe(
      "bun scripts/build.ts --man",
    );
  });
});
