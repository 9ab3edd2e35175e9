/**
 * The tests pass from any checkout path. A checkout at a path longer than
 * about 21 characters once failed `npm test` (issue 9, item 12): a test looked
 * for a script name that the COMMAND column cut off, and the script's path is
 * as long as the checkout's.
 *
 * So: copy this working tree into a folder more than 100 characters deep with
 * a space in its path, inside a 0700 directory (as a home directory is), build
 * the binary there, and run the test files whose output holds checkout paths.
 */
import { afterAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { REPO } from "../helpers/env.ts";

/**
 * Test files that print or match paths under the checkout, or run code from
 * it as another user (who cannot enter a 0700 folder).
 */
const FILES = [
  "test/e2e/scan.test.ts",
  "test/fixture/scan.test.ts",
  "test/e2e/scan_tree.test.ts",
  "test/e2e/completions.test.ts",
  "test/fixture/limit_common.test.ts",
];

/** Not copied: installed or built, or git's own data. */
const SKIP_TOP = new Set(["node_modules", "dist", ".git"]);

const base = mkdtempSync(join(tmpdir(), "vmaudit-deep-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const deep = join(
  base,
  "home directory with spaces",
  "src-a-rather-long-folder-name",
  "another-level-of-nesting",
  "vmaudit",
);

function run(cmd: string[]): { code: number; out: string } {
  const p = Bun.spawnSync(cmd, {
    cwd: deep,
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, out: p.stdout.toString() + p.stderr.toString() };
}

test(`the path-sensitive tests pass from a checkout more than 100 characters deep (${FILES.length} files)`, () => {
  expect(deep.length).toBeGreaterThan(100);
  mkdirSync(deep, { recursive: true });
  cpSync(REPO, deep, {
    recursive: true,
    filter: (src) => !SKIP_TOP.has(relative(REPO, src)),
  });
  symlinkSync(join(REPO, "node_modules"), join(deep, "node_modules"));

  const build = run([process.execPath, "scripts/build.ts"]);
  if (build.code !== 0) console.log(build.out);
  expect(build.code).toBe(0);

  const r = run([process.execPath, "test", ...FILES.map((f) => `./${f}`)]);
  if (r.code !== 0) console.log(r.out);
  expect(r.out).toMatch(new RegExp(`Ran [1-9]\\d* tests across ${FILES.length} files`));
  expect(r.out).toMatch(/^ 0 fail$/m);
  expect(r.code).toBe(0);
}, 180_000);
