/**
 * splitArgv() against node:util parseArgs (strict, positionals allowed), the
 * parser it replaces at start-up: the same values and positionals, or the
 * same kind of error on the same option, for a table of edge cases and a
 * seeded fuzz of argv built from option-like tokens.
 */
import { describe, expect, test } from "bun:test";
import { parseArgs } from "node:util";
import { type ArgvError, type ArgvOption, splitArgv } from "../../src/cli/argv.ts";

const OPTIONS: Record<string, ArgvOption> = {
  top: { type: "string" },
  format: { type: "string" },
  file: { type: "string", short: "f" },
  json: { type: "boolean" },
  "no-color": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  "dry-run": { type: "boolean", short: "n" },
};

/** An option as either parser names it in an error (`--file`, `-f`, `f`), by its long name. */
function longName(option: string): string {
  const bare = option.replace(/^-+/, "");
  const short = Object.entries(OPTIONS).find(([, o]) => o.short === bare);
  return bare.length === 1 && short ? short[0] : bare;
}

type Outcome =
  | { values: Record<string, string | boolean>; positionals: string[] }
  | { error: ArgvError["kind"]; option: string };

/** What node:util makes of `args`, in splitArgv's terms. */
function oracle(args: string[]): Outcome {
  try {
    const r = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
    return {
      values: { ...r.values } as Record<string, string | boolean>,
      positionals: r.positionals,
    };
  } catch (err) {
    const e = err as { code?: string; message: string };
    const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? "";
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return { error: "unknown", option: quoted };
    const option = longName(quoted.split(/[ ,]/)[0] ?? "");
    if (/argument missing/.test(e.message)) return { error: "missing-value", option };
    if (/ambiguous/.test(e.message)) return { error: "ambiguous-value", option };
    if (/does not take an argument/.test(e.message)) return { error: "unexpected-value", option };
    throw err;
  }
}

/** Unknown options are compared as typed; the others by the option they name. */
function errorOption(kind: ArgvError["kind"], option: string): string {
  return kind === "unknown" ? option : longName(option);
}

function ours(args: string[]): Outcome {
  const r = splitArgv(args, OPTIONS);
  return r.ok
    ? { values: r.values, positionals: r.positionals }
    : { error: r.error.kind, option: errorOption(r.error.kind, r.error.option) };
}

const CASES: string[][] = [
  [],
  ["--top", "5"],
  ["--top=5", "x", "y"],
  ["--top="],
  ["--top"],
  ["--top", "-1"],
  ["--top", "-"],
  ["--top", "--json"],
  ["--json"],
  ["--json=1"],
  ["--json=", "--top", "1"],
  ["--no-color", "--json", "--top", "2", "--top", "3"],
  ["-h"],
  ["-hn"],
  ["-nh", "x"],
  ["-h=1"],
  ["-hx"],
  ["-x"],
  ["-5"],
  ["-"],
  ["--"],
  ["--", "-x", "--top"],
  ["x", "--", "--json"],
  ["-f", "a.conf"],
  ["-fa.conf"],
  ["-nfa.conf"],
  ["-nf", "a.conf"],
  ["-f"],
  ["-hf"],
  ["-f", "-h"],
  ["-f", "-"],
  ["--file", "-n"],
  ["--=x"],
  ["---x"],
  ["--bogus"],
  ["--bogus=1"],
  ["--constructor"],
  ["--toString=x"],
  ["-n", "-5"],
  ["--format", "json", "--format=text"],
];

describe("splitArgv() splits as node:util parseArgs does", () => {
  for (const args of CASES)
    test(JSON.stringify(args), () => expect(ours(args)).toEqual(oracle(args)));

  test("a seeded fuzz of 3000 argv agrees", () => {
    const tokens = [
      "--top",
      "5",
      "-1",
      "-",
      "--",
      "--json",
      "--json=1",
      "--top=",
      "--top=-2",
      "-h",
      "-n",
      "-hn",
      "-hx",
      "-nf",
      "-f",
      "x.conf",
      "--file",
      "--bogus",
      "x",
      "-5",
      "--no-color",
      "--format",
      "json",
      "-x",
      "=",
      "--=",
      "-h=1",
      "--help",
    ];
    let seed = 12;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    const disagreements: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const args = Array.from(
        { length: next() % 7 },
        () => tokens[next() % tokens.length] as string,
      );
      const a = ours(args);
      const b = oracle(args);
      if (JSON.stringify(a) !== JSON.stringify(b))
        disagreements.push(`${JSON.stringify(args)}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
  });
});
