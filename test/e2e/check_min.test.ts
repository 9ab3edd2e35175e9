/**
 * `vmaudit check --min N` (compiled binary) on the real kernel, with
 * vm.max_map_count set to a temporary value through `withTemporaryLimit`
 * (journal, set, restore; the restore is asserted). Changes the shared
 * kernel limit: run it under `flock /tmp/vmaudit-kernel.lock`.
 */
import { afterAll, describe, expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CheckStatus } from "../../src/check/evaluate.ts";
import { resultOf, withTemporaryLimit } from "../../src/limit/temporary.ts";
import { readLimit, rootTest, runBinary } from "../helpers/env.ts";

const LIMIT = 70_000;
const runDir = mkdtempSync(join(tmpdir(), "vmaudit-check-min-run-"));
afterAll(() => rmSync(runDir, { recursive: true, force: true }));

async function withLimit(value: number, body: () => void): Promise<void> {
  const original = readLimit();
  resultOf(
    await withTemporaryLimit(
      value,
      { procfs: "/proc", runDir, command: "test/e2e/check_min.test.ts" },
      body,
    ),
  );
  expect(readLimit()).toBe(original);
}

const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

/** The usage state a JSON result of check stands for, from its own numbers. */
function usageStatus(j: { vmas: number; warn: { vmas: number }; crit: { vmas: number } }) {
  return j.vmas > j.crit.vmas ? "CRITICAL" : j.vmas > j.warn.vmas ? "WARNING" : "OK";
}

describe("vmaudit check --min (compiled binary, real kernel, temporary limit)", () => {
  rootTest("below --min is CRITICAL (exit 2); at --min the usage thresholds decide", async () => {
    await withLimit(LIMIT, () => {
      // --allow-partial: a sandbox's pid 1 can be unreadable even as root.
      const below = runBinary(["check", "--allow-partial", "--min", String(LIMIT + 1)]);
      expect(below.code).toBe(2);
      expect(below.stdout).toStartWith(
        `VMAUDIT CRITICAL - vm.max_map_count ${LIMIT} is below --min ${LIMIT + 1}; pid `,
      );
      expect(below.stdout).toEndWith(` max_map_count=${LIMIT};;${LIMIT + 1}:;0;2147483647\n`);
      const j = JSON.parse(
        runBinary(["check", "--allow-partial", "--min", String(LIMIT + 1), "--json"]).stdout,
      );
      expect([j.status, j.exitCode, j.maxMapCount, j.min]).toEqual([
        "CRITICAL",
        2,
        LIMIT,
        { value: LIMIT + 1, status: "CRITICAL" },
      ]);

      const at = runBinary(["check", "--allow-partial", "--min", String(LIMIT), "--json"]);
      const k = JSON.parse(at.stdout);
      expect(k.min).toEqual({ value: LIMIT, status: "OK" });
      expect(k.maxMapCount).toBe(LIMIT);
      const usage = usageStatus(k) as CheckStatus;
      expect(k.status).toBe(usage);
      expect(at.code).toBe({ OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 }[usage]);
      expect(k.line).toContain(`; vm.max_map_count ${LIMIT} meets --min ${LIMIT} | `);
    });
  });

  rootTest(
    "without root the processes are UNKNOWN, but a limit below --min is still CRITICAL",
    async () => {
      await withLimit(LIMIT, () => {
        const below = runBinary(["check", "--min", "262144"], { prefix: NOBODY });
        expect(below.code).toBe(2);
        expect(below.stdout).toMatch(
          new RegExp(
            `^VMAUDIT CRITICAL - vm\\.max_map_count ${LIMIT} is below --min 262144; \\d+ of \\d+ processes could not be read \\(\\d+ permission denied: not running as root\\)`,
          ),
        );
        const met = runBinary(["check", "--min", String(LIMIT)], { prefix: NOBODY });
        expect(met.code).toBe(3);
        expect(met.stdout).toStartWith("VMAUDIT UNKNOWN - ");
        expect(met.stdout).toContain(`; vm.max_map_count ${LIMIT} meets --min ${LIMIT} | `);
      });
    },
  );

  rootTest("a bad --min is UNKNOWN (exit 3) with a status line on stdout", () => {
    const r = runBinary(["check", "--min", "lots"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(
      'VMAUDIT UNKNOWN - Cannot parse --min "lots": expected a positive integer\n',
    );
  });
});
