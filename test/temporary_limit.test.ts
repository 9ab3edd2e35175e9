/**
 * withTemporaryLimit() on a fake proc tree: the journal comes before the
 * change, the original comes back whether the body returns or throws, the
 * journal goes only after a good restore, and a journal left by another run
 * is never overwritten.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJournal, writeJournal } from "../src/limit/journal.ts";
import { resultOf, withTemporaryLimit } from "../src/limit/temporary.ts";
import { SAMPLE_JOURNAL } from "./helpers/journal.ts";
import { makeProcTree } from "./helpers/proc_tree.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(limit = "65530"): { procfs: string; runDir: string; limitFile: string } {
  const procfs = makeProcTree({ processes: {}, maxMapCount: limit });
  const runDir = join(mkdtempSync(join(tmpdir(), "vmaudit-temp-limit-")), "run");
  made.push(procfs, join(runDir, ".."));
  return { procfs, runDir, limitFile: join(procfs, "sys", "vm", "max_map_count") };
}

const limitOf = (file: string) => Number(readFileSync(file, "utf8").trim());

describe("withTemporaryLimit()", () => {
  test("writes the journal, then the value; restores it and removes the journal after the body", async () => {
    const { procfs, runDir, limitFile } = setup();
    const seen: unknown[] = [];
    const run = await withTemporaryLimit(120000, { procfs, runDir, command: "test" }, () => {
      seen.push(limitOf(limitFile), readJournal(runDir));
      return "done";
    });
    expect(seen[0]).toBe(120000);
    expect(seen[1]).toMatchObject({
      originalLimit: 65530,
      temporaryLimit: 120000,
      command: "test",
    });
    expect(run).toEqual({
      outcome: { ok: true, value: "done" },
      restore: { value: 65530, readBack: 65530, ok: true, error: null },
    });
    expect(limitOf(limitFile)).toBe(65530);
    expect(readJournal(runDir)).toBeUndefined();
    expect(resultOf(run)).toBe("done");
  });

  test("restores the original when the body throws, and resultOf() throws the body's error", async () => {
    const { procfs, runDir, limitFile } = setup();
    const run = await withTemporaryLimit(70000, { procfs, runDir, command: "test" }, () => {
      throw new Error("worker died");
    });
    expect(run.outcome).toEqual({ ok: false, error: new Error("worker died") });
    expect(run.restore.ok).toBe(true);
    expect(limitOf(limitFile)).toBe(65530);
    expect(readJournal(runDir)).toBeUndefined();
    expect(() => resultOf(run)).toThrow("worker died");
  });

  test("restores `original` when given, not the live value", async () => {
    const { procfs, runDir, limitFile } = setup("80000");
    await withTemporaryLimit(90000, { procfs, runDir, command: "test", original: 65530 }, () => 0);
    expect(limitOf(limitFile)).toBe(65530);
  });

  test("a failed restore keeps the journal, and resultOf() says the restore failed", async () => {
    const { procfs, runDir, limitFile } = setup();
    const run = await withTemporaryLimit(70000, { procfs, runDir, command: "test" }, () => {
      // The limit file turns into a folder: the restore's write fails.
      unlinkSync(limitFile);
      mkdirSync(limitFile);
      return 1;
    });
    expect(run.outcome.ok).toBe(true);
    expect(run.restore).toMatchObject({ value: 65530, ok: false });
    expect(readJournal(runDir)).toMatchObject({ originalLimit: 65530, temporaryLimit: 70000 });
    expect(() => resultOf(run)).toThrow("Restoring vm.max_map_count to 65530 failed");
  });

  test("refuses, changing nothing, while another run's journal is there", async () => {
    const { procfs, runDir, limitFile } = setup();
    writeJournal(SAMPLE_JOURNAL, runDir);
    let ran = false;
    await expect(
      withTemporaryLimit(70000, { procfs, runDir, command: "test" }, () => {
        ran = true;
      }),
    ).rejects.toThrow("A limit journal of an unfinished run is in");
    expect(ran).toBe(false);
    expect(limitOf(limitFile)).toBe(65530);
    expect(readJournal(runDir)).toEqual(SAMPLE_JOURNAL);
  });

  test("refuses when the live value cannot be read", async () => {
    const procfs = makeProcTree({ processes: {} });
    made.push(procfs);
    const runDir = join(procfs, "run");
    await expect(
      withTemporaryLimit(70000, { procfs, runDir, command: "test" }, () => 0),
    ).rejects.toThrow(`Cannot read "${procfs}/sys/vm/max_map_count"`);
  });
});
