/**
 * Why check judges partially seen systems as it does, pure: the limit's
 * sanity, the reason for unseen processes, and the line that says how many
 * --allow-partial left out.
 */
import { describe, expect, test } from "bun:test";
import {
  evaluateCheck,
  limitProblem,
  type Unseen,
  unseenReason,
} from "../../src/check/evaluate.ts";

describe("limitProblem()", () => {
  const cases: [number, boolean][] = [
    [1, true],
    [65530, true],
    [2147483647, true],
    [0, false],
    [-1, false],
    [2147483648, false],
    [1e23, false],
    [1.5, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
  ];
  for (const [limit, ok] of cases) {
    test(`a limit of ${limit} is ${ok ? "usable" : "refused"}`, () => {
      expect(limitProblem(limit)).toBe(
        ok ? undefined : `it reads ${limit}, expected a whole number from 1 to 2147483647`,
      );
    });
  }
});

describe("unseenReason()", () => {
  const cases: [Unseen, string][] = [
    [
      { seen: 120, denied: 57, errors: {}, asRoot: false },
      "57 of 120 processes could not be read (57 permission denied: not running as root): run as root, or pass --allow-partial to judge the readable ones",
    ],
    [
      { seen: 9, denied: 1, errors: {}, asRoot: true },
      "1 of 9 processes could not be read (1 permission denied even as root): pass --allow-partial to judge the readable ones",
    ],
    [
      { seen: 9, denied: 0, errors: { ENOTREG: 2, EIO: 1 }, asRoot: true },
      "3 of 9 processes could not be read (2 ENOTREG, 1 EIO): pass --allow-partial to judge the readable ones",
    ],
  ];
  for (const [u, line] of cases) {
    test(`${u.denied} denied, errors ${JSON.stringify(u.errors)}, root ${u.asRoot}`, () => {
      expect(unseenReason(u)).toBe(line);
    });
  }
});

test("evaluateCheck() says in the line how many processes --allow-partial left out", () => {
  const r = evaluateCheck({
    busiest: { pid: 7, app: "java", vmas: 10 },
    limit: 100,
    warn: 80,
    crit: 95,
    partial: { unreadable: 3, seen: 9 },
  });
  expect(r.line).toBe(
    "VMAUDIT OK - pid 7 (java) at 10.0% of vm.max_map_count (10 of 100 VMAs); 3 of 9 processes unreadable, allowed by --allow-partial | max_vmas=10;80;95;0;100",
  );
  expect(r.unreadable).toBe(3);
});
