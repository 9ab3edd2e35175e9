/**
 * vmaudit check, pure: thresholds at every boundary, the status line and
 * perfdata, and its flags.
 */
import { describe, expect, test } from "bun:test";
import {
  type CheckStatus,
  evaluateCheck,
  thresholdVmas,
  unknownCheck,
} from "../../src/check/evaluate.ts";
import { checkRequest } from "../../src/commands/check.run.ts";
import { checkCommand } from "../../src/commands/check.ts";
import { UsageError } from "../../src/errors.ts";
import { type FlagValues, parsed } from "../helpers/parse_args.ts";

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
