/**
 * `vmaudit check --min N`, pure: the limit against the floor, combined with
 * the usage thresholds (the worse state wins, as monitoring-plugins'
 * max_state_alt: CRITICAL > WARNING > UNKNOWN > OK), the line and perfdata,
 * and the flag.
 */
import { describe, expect, test } from "bun:test";
import {
  CHECK_EXIT,
  type CheckStatus,
  evaluateCheck,
  minimumPart,
  unknownCheck,
  worstStatus,
} from "../../src/check/evaluate.ts";
import { checkRequest } from "../../src/commands/check.run.ts";
import { checkCommand } from "../../src/commands/check.ts";
import { UsageError } from "../../src/errors.ts";
import { type FlagValues, parsed } from "../helpers/parse_args.ts";

const STATES: CheckStatus[] = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];

describe("worstStatus()", () => {
  // Rows: a; columns: b, in STATES order.
  const table: Record<CheckStatus, CheckStatus[]> = {
    OK: ["OK", "WARNING", "CRITICAL", "UNKNOWN"],
    WARNING: ["WARNING", "WARNING", "CRITICAL", "WARNING"],
    CRITICAL: ["CRITICAL", "CRITICAL", "CRITICAL", "CRITICAL"],
    UNKNOWN: ["UNKNOWN", "WARNING", "CRITICAL", "UNKNOWN"],
  };
  for (const a of STATES) {
    STATES.forEach((b, i) => {
      test(`worstStatus(${a}, ${b}) is ${table[a][i]}`, () => {
        expect(worstStatus(a, b)).toBe(table[a][i] as CheckStatus);
        expect(worstStatus(b, a)).toBe(table[a][i] as CheckStatus);
      });
    });
  }
});

describe("minimumPart()", () => {
  const cases: [number, number, "OK" | "CRITICAL"][] = [
    [65530, 262144, "CRITICAL"],
    [262143, 262144, "CRITICAL"],
    [262144, 262144, "OK"],
    [1048576, 262144, "OK"],
  ];
  for (const [limit, min, status] of cases) {
    test(`a limit of ${limit} with --min ${min} is ${status}`, () => {
      const m = minimumPart({ limit, min });
      expect(m.status).toBe(status);
      expect(m.perfdata).toBe(`max_map_count=${limit};;${min}:;0;2147483647`);
      expect(m.text).toBe(
        status === "OK"
          ? `vm.max_map_count ${limit} meets --min ${min}`
          : `vm.max_map_count ${limit} is below --min ${min}`,
      );
    });
  }
});

describe("evaluateCheck() with --min: usage and the floor combined", () => {
  // limit 65530: warn 80% -> 52424, crit 95% -> 62253.
  const usage: [number, CheckStatus][] = [
    [100, "OK"],
    [60000, "WARNING"],
    [65000, "CRITICAL"],
  ];
  const floors: [number, "OK" | "CRITICAL"][] = [
    [65530, "OK"],
    [262144, "CRITICAL"],
  ];
  for (const [vmas, u] of usage) {
    for (const [min, m] of floors) {
      const want = m === "CRITICAL" ? "CRITICAL" : u;
      test(`usage ${u} (${vmas} VMAs) and --min ${min} (${m}) is ${want}`, () => {
        const r = evaluateCheck({
          busiest: { pid: 7, app: "java", vmas },
          limit: 65530,
          warn: 80,
          crit: 95,
          min,
        });
        expect([r.status, r.exitCode]).toEqual([want, CHECK_EXIT[want]]);
        expect(r.min).toEqual({ value: min, status: m });
        expect(r.line).toStartWith(`VMAUDIT ${want} - `);
        expect(r.line).toEndWith(
          ` | max_vmas=${vmas};52424;62253;0;65530 max_map_count=65530;;${min}:;0;2147483647`,
        );
      });
    }
  }

  test("a failed minimum leads the line; a met one follows the usage", () => {
    const below = evaluateCheck({
      busiest: { pid: 1234, app: "java", vmas: 2012 },
      limit: 65530,
      warn: 80,
      crit: 95,
      min: 262144,
    });
    // The README shows this line.
    expect(below.line).toBe(
      "VMAUDIT CRITICAL - vm.max_map_count 65530 is below --min 262144; pid 1234 (java) at 3.1% of vm.max_map_count (2012 of 65530 VMAs) | max_vmas=2012;52424;62253;0;65530 max_map_count=65530;;262144:;0;2147483647",
    );
    const met = evaluateCheck({
      busiest: { pid: 1234, app: "java", vmas: 2012 },
      limit: 300000,
      warn: 80,
      crit: 95,
      min: 262144,
    });
    expect(met.line).toStartWith(
      "VMAUDIT OK - pid 1234 (java) at 0.7% of vm.max_map_count (2012 of 300000 VMAs); vm.max_map_count 300000 meets --min 262144 | ",
    );
  });

  test("without --min nothing changes: no min, no extra perfdata", () => {
    const r = evaluateCheck({
      busiest: { pid: 1, app: "java", vmas: 100 },
      limit: 65530,
      warn: 80,
      crit: 95,
    });
    expect(r.min).toBeNull();
    expect(r.line).not.toContain("max_map_count=");
  });
});

describe("unknownCheck() with --min: the limit is known, the processes are not", () => {
  test("below the floor it is CRITICAL: that much is known", () => {
    const r = unknownCheck("57 of 120 processes could not be read", 80, 95, 57, {
      limit: 65530,
      min: 262144,
    });
    expect([r.status, r.exitCode, r.maxMapCount, r.unreadable]).toEqual(["CRITICAL", 2, 65530, 57]);
    expect(r.min).toEqual({ value: 262144, status: "CRITICAL" });
    expect(r.line).toBe(
      "VMAUDIT CRITICAL - vm.max_map_count 65530 is below --min 262144; 57 of 120 processes could not be read | max_map_count=65530;;262144:;0;2147483647",
    );
  });
  test("at or above the floor it stays UNKNOWN", () => {
    const r = unknownCheck("57 of 120 processes could not be read", 80, 95, 57, {
      limit: 262144,
      min: 262144,
    });
    expect([r.status, r.exitCode]).toEqual(["UNKNOWN", 3]);
    expect(r.line).toBe(
      "VMAUDIT UNKNOWN - 57 of 120 processes could not be read; vm.max_map_count 262144 meets --min 262144 | max_map_count=262144;;262144:;0;2147483647",
    );
  });
  test("without a minimum the UNKNOWN line is as before", () => {
    const r = unknownCheck("Cannot scan x", 80, 95);
    expect([r.line, r.min, r.maxMapCount]).toEqual(["VMAUDIT UNKNOWN - Cannot scan x", null, null]);
  });
});

describe("--min in check's flags", () => {
  const request = (values: FlagValues) => checkRequest(parsed(checkCommand, values).options);
  test("is passed on as a number, and left out when not given", () => {
    expect(request({ min: "262144" }).min).toBe(262144);
    expect("min" in request({})).toBe(false);
  });
  for (const raw of ["abc", "0", "-1", "1e6", "2147483648", ""]) {
    test(`--min ${JSON.stringify(raw)} is a usage error (exit 3 for check)`, () => {
      expect(() => request({ min: raw })).toThrow(UsageError);
      expect(checkCommand.usageExitCode).toBe(3);
    });
  }
});
