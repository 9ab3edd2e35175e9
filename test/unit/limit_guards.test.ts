/**
 * The guards on a new vm.max_map_count (limit/guards.ts), table-driven: the
 * range a journal's value must be in, below-peak and high-value refusals with
 * their exit codes and --force.
 */
import { describe, expect, test } from "bun:test";
import { INT_MAX } from "../../src/core/kernel_limits.ts";
import { guardBelowPeak, guardHighValue, guardLimitRange } from "../../src/limit/guards.ts";
import { codeOf } from "../helpers/exit_code.ts";

describe("guardLimitRange(): a restored value is one vm.max_map_count can take", () => {
  const cases: [number, number | undefined][] = [
    [1, undefined],
    [65530, undefined],
    [INT_MAX, undefined],
    [0, 2],
    [-1, 2],
    [INT_MAX + 1, 2],
    [1.5, 2],
    [Number.NaN, 2],
    [Number.MAX_SAFE_INTEGER + 2, 2],
  ];
  for (const [value, code] of cases) {
    test(`${value}: ${code === undefined ? "allowed" : `exit ${code}`}`, () => {
      expect(codeOf(() => guardLimitRange({ what: "restoring", value }))).toBe(code);
    });
  }
});

describe("guardBelowPeak()", () => {
  const busiest = { pid: 42, app: "java", vmas: 54321 };
  const cases: [number, boolean, number | undefined][] = [
    [54320, false, 2],
    [54321, false, undefined],
    [60000, false, undefined],
    [30000, true, undefined],
  ];
  for (const [value, force, code] of cases) {
    test(`value ${value}${force ? " with --force" : ""} against a peak of 54321: ${code ?? "allowed"}`, () => {
      expect(codeOf(() => guardBelowPeak({ what: `VALUE ${value}`, value, busiest, force }))).toBe(
        code,
      );
    });
  }
  test("names the process and its count", () => {
    expect(() => guardBelowPeak({ what: "VALUE 100", value: 100, busiest, force: false })).toThrow(
      /pid 42 \(java\) has 54321 VMAs/,
    );
  });
});

describe("guardHighValue()", () => {
  const cases: [number, boolean, number | undefined][] = [
    [1_048_576, false, undefined],
    [1_048_577, false, 2],
    [1_048_577, true, undefined],
  ];
  for (const [value, force, code] of cases) {
    test(`value ${value}${force ? " with --force" : ""}: ${code ?? "allowed"}`, () => {
      expect(
        codeOf(() =>
          guardHighValue({ what: "VALUE", value, threshold: 1_048_576, objsize: 192, force }),
        ),
      ).toBe(code);
    });
  }
  test("states the worst-case kernel memory", () => {
    expect(() =>
      guardHighValue({
        what: "VALUE 2097152",
        value: 2_097_152,
        threshold: 1_048_576,
        objsize: 192,
        force: false,
      }),
    ).toThrow(/384\.0 MiB/);
  });
});
