import { describe, expect, test } from "bun:test";
import { headroomUnder, recommendLimit, worstCaseKernelBytes } from "../../src/core/recommend.ts";

describe("recommendLimit()", () => {
  // [peak, headroom, round, expected raw, expected limit, reason]
  const cases: [number, number, number, number, number, string][] = [
    [1, 1.5, 10000, 2, 65530, "kernel-default"],
    [43686, 1.5, 10000, 65529, 65530, "kernel-default"],
    [43687, 1.5, 10000, 65531, 70000, "rounded"],
    [65530, 1.2, 1, 78636, 78636, "rounded"],
    [54608, 1.2, 1, 65530, 65530, "kernel-default"], // 54608 x 1.2 = 65529.6 -> 65530
    [43686, 1.5, 1, 65529, 65530, "kernel-default"],
    // raw 65531 and 65535 with rounding off fall in the reserved range -> 65536
    [43687, 1.5, 1, 65531, 65536, "reserved-range"], // 43687 x 1.5 = 65530.5 -> 65531
    [43690, 1.5, 1, 65535, 65536, "reserved-range"],
    [43691, 1.5, 1, 65537, 65537, "rounded"], // 65536.5 -> 65537
    // rounding of 10000
    [80000, 1.5, 10000, 120000, 120000, "rounded"],
    [80001, 1.5, 10000, 120002, 130000, "rounded"],
    // a round that lands in 65531..65535 is lifted to 65536
    [43687, 1.5, 65533, 65531, 65536, "reserved-range"],
    // headroom 1.2 is exact: 50000 x 1.2 = 60000, not 60000.00000000001
    [60000, 1.2, 1, 72000, 72000, "rounded"],
    // never above INT_MAX
    [2147483647, 1.5, 10000, 3221225471, 2147483647, "int-max"],
    [1431655765, 1.5, 1, 2147483648, 2147483647, "int-max"],
  ];
  for (const [peak, headroom, round, raw, limit, reason] of cases) {
    test(`peak ${peak} x ${headroom}, round ${round} gives ${limit} (${reason})`, () => {
      const r = recommendLimit({ peak, headroom, round });
      expect(r.raw).toBe(raw);
      expect(r.limit).toBe(limit);
      expect(r.reason).toBe(reason as typeof r.reason);
    });
  }

  test("raw of exactly 65530 recommends the kernel default", () => {
    // 65530 = 43686.67 x 1.5: use headroom 1.25 with peak 52424 -> 65530
    const r = recommendLimit({ peak: 52424, headroom: 1.25, round: 10000 });
    expect(r.raw).toBe(65530);
    expect(r.limit).toBe(65530);
  });

  test("headroom 1.2 is accepted and 1.19 is rejected", () => {
    expect(recommendLimit({ peak: 100000, headroom: 1.2, round: 10000 }).limit).toBe(120000);
    expect(() => recommendLimit({ peak: 100000, headroom: 1.19, round: 10000 })).toThrow(
      /at least 1.2/,
    );
  });

  test("peak 0, a fractional peak and round 0 are rejected", () => {
    expect(() => recommendLimit({ peak: 0, headroom: 1.5, round: 10000 })).toThrow(/peak/);
    expect(() => recommendLimit({ peak: 1.5, headroom: 1.5, round: 10000 })).toThrow(/peak/);
    expect(() => recommendLimit({ peak: 10, headroom: 1.5, round: 0 })).toThrow(/round/);
  });
});

describe("headroomUnder()", () => {
  const cases: [number, number, number, string][] = [
    [100, 80, 20, "ok"],
    [100, 81, 19, "low"],
    [100, 95, 5, "low"],
    [100, 96, 4, "critical"],
    [100, 120, -20, "critical"],
  ];
  for (const [limit, used, pct, level] of cases) {
    test(`${used} of ${limit} is ${pct}% free (${level})`, () => {
      const h = headroomUnder(limit, used);
      expect(h.freePercent).toBeCloseTo(pct, 10);
      expect(h.level).toBe(level as "ok");
    });
  }
});

test("worstCaseKernelBytes() multiplies the limit by objsize", () => {
  expect(worstCaseKernelBytes(1048576, 192)).toBe(192 * 1024 * 1024);
});
