/**
 * What the test machine can do, and helpers that say so visibly when a test
 * has to be skipped.
 */

import { test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const REPO = join(import.meta.dir, "..", "..");
export const BINARY = join(REPO, "dist", "vmaudit");
export const IS_ROOT = process.getuid?.() === 0;

/**
 * `test`, or `test.skip` with a printed reason when not root. A skipped test
 * shows in bun's summary, and the reason goes to stderr so it is not silent.
 */
export function rootTest(
  name: string,
  fn: () => undefined | Promise<unknown>,
  timeout?: number,
): void {
  if (IS_ROOT) {
    test(name, fn, timeout);
  } else {
    console.warn(`SKIP (needs root): ${name}`);
    test.skip(`${name} [needs root]`, fn);
  }
}

/** The compiled binary's path; fails loudly when it has not been built. */
export function binary(): string {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run 'npm run build' first`);
  return BINARY;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the compiled binary and wait for it. */
export function runBinary(
  args: string[],
  opts: { env?: Record<string, string>; prefix?: string[] } = {},
): RunResult {
  const cmd = [...(opts.prefix ?? []), binary(), ...args];
  const p = Bun.spawnSync(cmd, {
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

export function readLimit(): number {
  return Number(readFileSync("/proc/sys/vm/max_map_count", "utf8").trim());
}

/** A process's map_count, read independently of vmaudit: maps lines minus [vsyscall]. */
export function kernelCount(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/maps`, "utf8")
    .split("\n")
    .filter((l) => l !== "");
  return lines.length - (lines.at(-1)?.endsWith("[vsyscall]") ? 1 : 0);
}
