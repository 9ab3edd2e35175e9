/**
 * `vmaudit check`: thresholds at every boundary, flag parsing, the UNKNOWN
 * paths, and usage errors exiting 3 (UNKNOWN) rather than 2 (CRITICAL).
 */
import { describe, expect, test } from "bun:test";
import {
  type CheckStatus,
  evaluateCheck,
  thresholdVmas,
  unknownCheck,
} from "../src/check/evaluate.ts";
import { runMain } from "../src/cli/run_main.ts";
import { checkRequest } from "../src/commands/check.run.ts";
import { checkCommand } from "../src/commands/check.ts";
import { COMMANDS } from "../src/commands/index.ts";
import { UsageError } from "../src/errors.ts";
import { fakeIo } from "./helpers/fake_io.ts";
import { type FlagValues, parsed } from "./helpers/parse_args.ts";
import { makeProcTree, mapsText, removeTree } from "./helpers/proc_tree.ts";

/** What `vmaudit check` makes of its flags: the typed options as check options. */
function parseCheckOptions(values: FlagValues) {
  return checkRequest(parsed(checkCommand, values).options);
}

describe("evaluateCheck()", () => {
  // limit 65530: warn 80% -> 52424 (52424.0), crit 95% -> 62253 (62253.5 floored).
  const cases: [number, CheckStatus, number][] = [
    [0, "OK", 0],
    [52424, "OK", 0],
    [52425, "WARNING", 1],
    [62253, "WARNING", 1],
    [62254, "CRITICAL", 2],
    [65530, "CRITICAL", 2],
    [65531, "CRITICAL", 2],
  ];
  for (const [vmas, status, code] of cases) {
    test(`${vmas} VMAs under 65530 is ${status} (exit ${code})`, () => {
      const r = evaluateCheck({
        busiest: { pid: 1, app: "java", vmas },
        limit: 65530,
        warn: 80,
        crit: 95,
      });
      expect([r.status, r.exitCode]).toEqual([status, code]);
    });
  }

  test("prints the status line with perfdata in the monitoring-plugins form", () => {
    const r = evaluateCheck({
      busiest: { pid: 1234, app: "java", vmas: 54321 },
      limit: 65530,
      warn: 80,
      crit: 95,
    });
    expect(r.line).toBe(
      "VMAUDIT WARNING - pid 1234 (java) at 82.9% of vm.max_map_count (54321 of 65530 VMAs) | max_vmas=54321;52424;62253;0;65530",
    );
  });

  test("keeps the line one line and keeps | out of the app name", () => {
    const r = evaluateCheck({
      busiest: { pid: 1, app: "a|b\nc", vmas: 1 },
      limit: 100,
      warn: 80,
      crit: 95,
    });
    expect(r.line).not.toContain("\n");
    expect(r.line.split("|").length).toBe(2);
    expect(r.app).toBe("a|b\nc");
  });

  test("thresholds are floored, so a percent of a round limit is exact", () => {
    expect(thresholdVmas(100000, 80)).toBe(80000);
    expect(thresholdVmas(65530, 95)).toBe(62253);
    expect(thresholdVmas(3, 50)).toBe(1);
  });

  test("UNKNOWN says why and exits 3", () => {
    const r = unknownCheck("Cannot scan x", 80, 95);
    expect([r.line, r.exitCode]).toEqual(["VMAUDIT UNKNOWN - Cannot scan x", 3]);
  });
});

describe("check's flags (parseCommandArgs, then checkRequest())", () => {
  test("defaults to 80 and 95", () => {
    expect(parseCheckOptions({})).toMatchObject({ warn: 80, crit: 95, procfs: "/proc" });
  });
  test("accepts decimals and warn equal to crit", () => {
    expect(parseCheckOptions({ warn: "90.5", crit: "90.5" })).toMatchObject({
      warn: 90.5,
      crit: 90.5,
    });
  });
  const bad: [Record<string, string>, RegExp][] = [
    [{ warn: "0" }, /--warn "0"/],
    [{ crit: "100.1" }, /--crit "100.1"/],
    [{ warn: "abc" }, /--warn "abc"/],
    [{ warn: "-5" }, /--warn "-5"/],
    [{ warn: "96" }, /--warn 96 above --crit 95/],
  ];
  for (const [values, message] of bad) {
    test(`${JSON.stringify(values)} is a usage error`, () => {
      expect(() => parseCheckOptions(values)).toThrow(UsageError);
      expect(() => parseCheckOptions(values)).toThrow(message);
    });
  }
});

describe("vmaudit check through runMain", () => {
  async function run(args: string[]) {
    const io = fakeIo();
    const code = await runMain(["check", ...args], COMMANDS, io);
    return { code, out: io.out, err: io.err };
  }

  test("a usage error exits 3 (UNKNOWN), not 2, which a monitor reads as CRITICAL", async () => {
    const r = await run(["--warn", "abc"]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('Cannot parse --warn "abc"');
    expect((await run(["--bogus"])).code).toBe(3);
  });

  test("a missing proc root is UNKNOWN, exit 3, with the reason on stdout", async () => {
    const r = await run(["--procfs", "/nonexistent-vmaudit-proc"]);
    expect(r.code).toBe(3);
    expect(r.out).toBe('VMAUDIT UNKNOWN - Cannot scan "/nonexistent-vmaudit-proc": ENOENT\n');
  });

  const tree = (limit: string | undefined, vmas: number) =>
    makeProcTree({
      processes: { 100: { maps: mapsText(vmas), cmdline: "/usr/bin/java\0-jar\0x.jar\0" } },
      ...(limit === undefined ? {} : { maxMapCount: limit }),
    });

  const levels: [number, number][] = [
    [79, 0],
    [81, 1],
    [96, 2],
  ];
  for (const [vmas, code] of levels) {
    test(`a fixture process at ${vmas} of 100 exits ${code}`, async () => {
      const root = tree("100", vmas);
      try {
        const r = await run(["--procfs", root]);
        expect(r.code).toBe(code);
        expect(r.out).toContain(`pid 100 (/usr/bin/java)`);
        expect(r.out).toContain(`| max_vmas=${vmas};80;95;0;100\n`);
      } finally {
        removeTree(root);
      }
    });
  }

  test("an unreadable limit is UNKNOWN", async () => {
    const root = tree(undefined, 5);
    try {
      const r = await run(["--procfs", root]);
      expect(r.code).toBe(3);
      expect(r.out).toStartWith("VMAUDIT UNKNOWN - Cannot read vm.max_map_count");
    } finally {
      removeTree(root);
    }
  });

  test("--json prints the result with a schemaVersion", async () => {
    const root = tree("100", 81);
    try {
      const r = await run(["--procfs", root, "--json"]);
      expect(r.code).toBe(1);
      const j = JSON.parse(r.out);
      expect(j).toMatchObject({
        schemaVersion: 1,
        status: "WARNING",
        exitCode: 1,
        pid: 100,
        vmas: 81,
        maxMapCount: 100,
        warn: { percent: 80, vmas: 80 },
        crit: { percent: 95, vmas: 95 },
      });
    } finally {
      removeTree(root);
    }
  });
});
