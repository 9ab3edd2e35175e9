/**
 * `vmaudit apply` argv to options, and the "needs root" command line.
 */
import { describe, expect, test } from "bun:test";
import { commandLine, requireRoot, shellQuote, typedProgram } from "../../src/cli/command_line.ts";
import { applyRequest } from "../../src/commands/apply.run.ts";
import { applyCommand } from "../../src/commands/apply.ts";
import { codeOf } from "../helpers/exit_code.ts";
import { type FlagValues, parsed } from "../helpers/parse_args.ts";

/** What `vmaudit apply` makes of its arguments: the typed values as an apply request. */
function parseApplyOptions(values: FlagValues, positionals: string[]) {
  return applyRequest(parsed(applyCommand, values, positionals));
}

describe("apply's arguments (parseCommandArgs, then applyRequest())", () => {
  test("defaults: no VALUE, the default file, root /, /proc", () => {
    const o = parseApplyOptions({}, []);
    expect([o.value, o.file, o.root, o.procfs, o.persist, o.dryRun, o.reset]).toEqual([
      undefined,
      "90-vm_max_map_count.conf",
      "/",
      "/proc",
      false,
      false,
      false,
    ]);
    expect(o.recommend).toEqual({ headroom: 1.5, round: 10000, vma: undefined, peaks: undefined });
  });
  test("shares --headroom, --round, --vma and --peaks with scan", () => {
    const o = parseApplyOptions({ headroom: "2", round: "1", vma: "90000", peaks: "/tmp/p.json" }, [
      "120000",
    ]);
    expect(o.value).toBe(120000);
    expect(o.recommend).toEqual({ headroom: 2, round: 1, vma: 90000, peaks: "/tmp/p.json" });
  });
  const roots: [string, string][] = [
    ["/mnt/image/", "/mnt/image"],
    ["/mnt//image", "/mnt/image"],
    ["/", "/"],
    ["//", "/"],
    ["/mnt/image/..", "/mnt"],
    ["/mnt/..", "/"],
  ];
  for (const [raw, root] of roots) {
    test(`--root ${raw} is normalised to ${root}`, () => {
      expect(parseApplyOptions({ root: raw, persist: true }, []).root).toBe(root);
    });
  }

  const refusals: [string, Record<string, string | boolean>, string[]][] = [
    ["VALUE with --reset", { reset: true }, ["5"]],
    ["--persist with --reset", { reset: true, persist: true }, []],
    ["--show-config with VALUE", { "show-config": true }, ["70000"]],
    ["--show-config with --dry-run", { "show-config": true, "dry-run": true }, []],
    ["--file without --persist", { file: "95-x.conf" }, ["70000"]],
    ["--file with a slash", { file: "../x.conf", persist: true }, []],
    ["--file not ending in .conf", { file: "95-x", persist: true }, []],
    ["--file hidden", { file: ".x.conf", persist: true }, []],
    ["--file empty", { file: "", persist: true }, []],
    ["a relative --root", { root: "img" }, []],
    ["an image --root without --persist, --reset or --show-config", { root: "/img" }, ["70000"]],
    ["an image --root with --dry-run only", { root: "/img", "dry-run": true }, ["70000"]],
    ["--headroom below 1.2", { headroom: "1.1" }, []],
  ];
  for (const [name, values, positionals] of refusals) {
    test(`refuses ${name} with exit 2`, () => {
      expect(codeOf(() => parseApplyOptions(values, positionals))).toBe(2);
    });
  }
});

describe("the needs-root command line", () => {
  const quotes: [string, string][] = [
    ["70000", "70000"],
    ["--root=/mnt/x", "--root=/mnt/x"],
    ["my file", "'my file'"],
    ["it's", "'it'\\''s'"],
    ["", "''"],
  ];
  for (const [arg, quoted] of quotes) {
    test(`shellQuote(${JSON.stringify(arg)}) is ${quoted}`, () =>
      expect(shellQuote(arg)).toBe(quoted));
  }
  test("commandLine() repeats the typed program and arguments", () => {
    expect(commandLine(["apply", "--root", "/tmp/a b"], "./dist/vmaudit")).toBe(
      "./dist/vmaudit apply --root '/tmp/a b'",
    );
  });
  test("typedProgram() is vmaudit under bun, else what was typed", () => {
    expect(typedProgram("bun")).toBe("vmaudit");
    expect(typedProgram("/usr/local/bin/bun")).toBe("vmaudit");
    expect(typedProgram("./dist/vmaudit")).toBe("./dist/vmaudit");
  });
  test("requireRoot() passes for euid 0 and exits 77 otherwise", () => {
    expect(codeOf(() => requireRoot("apply", ["apply", "70000"], 0))).toBeUndefined();
    expect(() => requireRoot("apply", ["apply", "70000"], 1000)).toThrow(
      /^vmaudit apply needs root: sudo \S+ apply 70000$/,
    );
    expect(codeOf(() => requireRoot("apply", ["apply"], 1000))).toBe(77);
  });
});
