/**
 * README.md's option tables and the command table say the same: every
 * option a command takes is in the table of its README section
 * (`## vmaudit NAME`), and every option a table lists is one the command
 * takes. The options every command has (`--help`, `--no-color`) may be
 * listed anywhere and need not be.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMON_OPTIONS } from "../../src/cli/command.ts";
import { COMMANDS } from "../../src/commands/index.ts";

const README = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");

/** The long options in the `| option | meaning |` tables of the section `## vmaudit NAME`. */
export function readmeOptions(readme: string, name: string): string[] | undefined {
  const section = readme
    .split(/^## /m)
    .find((s) => s.startsWith(`vmaudit ${name}`) && /^vmaudit \S+(\s|$)/.test(s));
  if (!section) return undefined;
  const options: string[] = [];
  let inTable = false;
  for (const line of section.split("\n")) {
    if (/^\| option \| meaning \|/.test(line)) {
      inTable = true;
      continue;
    }
    if (!line.startsWith("|")) inTable = false;
    if (!inTable) continue;
    const first = line.split("|")[1] ?? "";
    for (const m of first.matchAll(/`--([a-z][a-z-]*)/g)) options.push(m[1] as string);
  }
  return options;
}

const common = new Set(Object.keys(COMMON_OPTIONS));
const documented = COMMANDS.filter((c) => !c.hidden && Object.keys(c.options).length > 0);

describe("README option tables match the command table", () => {
  test("the parser reads a table", () => {
    const text =
      "## vmaudit x\n\n| option | meaning |\n|---|---|\n| `-n`, `--dry-run` | a |\n| `--a N`, `--b` | b |\n\n## Next\n| `--c` | c |\n";
    expect(readmeOptions(text, "x")).toEqual(["dry-run", "a", "b"]);
  });
  for (const command of documented) {
    test(`vmaudit ${command.name}: the same options in README.md and the table`, () => {
      const readme = readmeOptions(README, command.name);
      expect(readme).toBeDefined();
      const inReadme = new Set(readme);
      const inTable = Object.keys(command.options);
      expect({ missingFromReadme: inTable.filter((o) => !inReadme.has(o)) }).toEqual({
        missingFromReadme: [],
      });
      expect({
        notAnOption: [...inReadme].filter((o) => !(o in command.options) && !common.has(o)),
      }).toEqual({ notAnOption: [] });
    });
  }
});
