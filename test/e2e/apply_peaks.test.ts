/**
 * `apply --peaks` takes its recommendation from recorded history, through the
 * flags it shares with `scan` (compiled binary, dry run: nothing changes).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLimit, runBinary } from "../helpers/env.ts";

const dir = mkdtempSync(join(tmpdir(), "vmaudit-peaks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("apply --dry-run --peaks recommends from the recorded peak, as scan --peaks does", () => {
  const file = join(dir, "peaks.json");
  const watch = runBinary(["watch", "--duration", "1", "--interval", "0.5", "--save", file]);
  expect(watch.code).toBe(0);
  // Pretend the history holds a process that once reached 100,000 VMAs.
  const peaks = JSON.parse(readFileSync(file, "utf8"));
  peaks.applications[0].vmas = 100_000;
  if (Array.isArray(peaks.processes) && peaks.processes[0]) peaks.processes[0].vmas = 100_000;
  writeFileSync(file, JSON.stringify(peaks));

  const before = readLimit();
  const scan = JSON.parse(runBinary(["scan", "--json", "--peaks", file]).stdout);
  expect(scan.recommendedLimit).toBe(150_000);
  const apply = runBinary(["apply", "--dry-run", "--json", "--peaks", file]);
  expect(apply.code).toBe(0);
  const report = JSON.parse(apply.stdout);
  expect(report.value).toBe(150_000);
  expect(report.source).toBe("recommendation");
  expect(readLimit()).toBe(before);
}, 20_000);
