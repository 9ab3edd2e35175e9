/**
 * `vmaudit check` (compiled binary) against a real worker, with
 * vm.max_map_count lowered for a moment so the worker sits at OK, WARNING and
 * CRITICAL. Changes the shared kernel limit: run it under
 * `flock /tmp/vmaudit-kernel.lock`. The limit is changed through
 * `withTemporaryLimit` (journal, set, restore), and the restore is asserted.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resultOf, withTemporaryLimit } from "../../src/limit/temporary.ts";
import { kernelCount, readLimit, rootTest, runBinary } from "../helpers/env.ts";
import { type Holder, spawnHolder } from "../helpers/holder.ts";

/**
 * 20000 one-page VMAs: far above anything else on the machine (other tests
 * map more than ~5000 only under the same lock), and the temporary limits
 * stay above 20000, high enough for every ordinary process.
 */
const EXTRA = 20_000;

/** Its journal goes to a folder of its own, so it never meets a stress run's. */
const runDir = mkdtempSync(join(tmpdir(), "vmaudit-check-run-"));
afterAll(() => rmSync(runDir, { recursive: true, force: true }));

/** Run `body` with vm.max_map_count at `value`, as `stress --limit` does (journal, set, restore). */
async function withLimit(value: number, body: () => void): Promise<void> {
  resultOf(
    await withTemporaryLimit(
      value,
      { procfs: "/proc", runDir, command: "test/e2e/check.test.ts" },
      body,
    ),
  );
}

describe("vmaudit check (compiled binary, real worker, temporary limit)", () => {
  let holder: Holder | undefined;
  beforeAll(async () => {
    if (process.getuid?.() === 0) holder = await spawnHolder(EXTRA);
  });
  afterAll(async () => {
    await holder?.stop();
  });

  rootTest(
    "exits 0 OK, 1 WARNING and 2 CRITICAL as the worker nears the limit, then restores it",
    async () => {
      const pid = holder?.pid as number;
      const count = kernelCount(pid);
      const original = readLimit();
      // Each limit puts the worker at about the named share; all stay above count.
      const plan: [number, string, number][] = [
        [Math.ceil(count / 0.5), "OK", 0],
        [Math.ceil(count / 0.88), "WARNING", 1],
        [Math.ceil(count / 0.985), "CRITICAL", 2],
      ];
      for (const [limit, status, code] of plan) {
        await withLimit(limit, () => {
          // --allow-partial: a sandbox's pid 1 can be unreadable even as root,
          // which alone would make the check UNKNOWN (test/fixture/check_partial.test.ts).
          const r = runBinary(["check", "--allow-partial"]);
          expect(kernelCount(pid)).toBe(count);
          expect({ code: r.code, head: r.stdout.split(" - ")[0] }).toEqual({
            code,
            head: `VMAUDIT ${status}`,
          });
          const w = Math.floor((limit * 80) / 100);
          const c = Math.floor((limit * 95) / 100);
          expect(r.stdout).toContain(`pid ${pid} `);
          expect(r.stdout).toEndWith(` | max_vmas=${count};${w};${c};0;${limit}\n`);
          expect(r.stdout.split("\n")).toHaveLength(2);
        });
        expect(readLimit()).toBe(original);
      }
      // --warn/--crit move the thresholds: at ~98.5% with crit 99 it is only WARNING.
      const last = plan.at(-1)?.[0] as number;
      await withLimit(last, () => {
        const r = runBinary(["check", "--allow-partial", "--warn", "90", "--crit", "99"]);
        expect(r.code).toBe(1);
        const j = JSON.parse(runBinary(["check", "--allow-partial", "--json"]).stdout);
        expect(j).toMatchObject({ status: "CRITICAL", exitCode: 2, pid, vmas: count });
      });
      expect(readLimit()).toBe(original);
    },
    30_000,
  );

  rootTest("exits 3 UNKNOWN when the proc root cannot be read", () => {
    const r = runBinary(["check", "--procfs", "/nonexistent-vmaudit-proc"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toStartWith("VMAUDIT UNKNOWN - ");
  });
});
