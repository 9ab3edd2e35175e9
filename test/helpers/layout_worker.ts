/**
 * Compile and run test/helpers/layout_worker.c: a process with a known VMA
 * layout. Needs a C compiler and static glibc (Debian gcc + libc6-dev, listed
 * in scripts/test-deps.sh). A C program rather than a Bun worker because the
 * Bun runtime's own mappings and threads vary from run to run, and the
 * inspect tests need every group exact.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { readFirstLine } from "./holder.ts";

export interface Layout {
  anon: number;
  protNone: number;
  fileMaps: number;
  shared: number;
  threads: number;
}

export interface LayoutWorker {
  pid: number;
  /** The file mapped fileMaps times. */
  file: string;
  binary: string;
  stop(): Promise<void>;
}

let built: { dir: string; binary: string } | undefined;

/** Compile once per test process; fails (does not skip) without a compiler. */
export function buildLayoutWorker(): { dir: string; binary: string } {
  if (built) return built;
  const cc = Bun.which("cc");
  if (!cc) throw new Error("cc is missing: apt-get install gcc libc6-dev (scripts/test-deps.sh)");
  const dir = mkdtempSync(join(tmpdir(), "vmaudit-layout-"));
  const binary = join(dir, "layout_worker");
  const p = Bun.spawnSync(
    [cc, "-O1", "-static", "-pthread", "-o", binary, join(import.meta.dir, "layout_worker.c")],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (p.exitCode !== 0) throw new Error(`cc failed: ${p.stderr.toString()}`);
  writeFileSync(join(dir, "data.bin"), Buffer.alloc(4096, 7));
  built = { dir, binary };
  return built;
}

export function removeLayoutBuild(): void {
  if (built) rmSync(built.dir, { recursive: true, force: true });
  built = undefined;
}

/** The worker's arguments: the layout's counts, then the file to map. */
export function layoutArgs(layout: Layout, file: string): string[] {
  const { anon, protNone, fileMaps, shared, threads } = layout;
  return [anon, protNone, fileMaps, shared, threads].map(String).concat(file);
}

/**
 * Start a worker with `layout` and wait until it is ready. `exe` runs a copy
 * of the worker under that path (its name becomes comm and a maps line),
 * `argv0` sets what /proc/PID/cmdline shows first, `file` replaces the file
 * it maps.
 */
export async function spawnLayoutWorker(
  layout: Layout,
  opts: { exe?: string; argv0?: string; file?: string } = {},
): Promise<LayoutWorker> {
  const { dir, binary } = buildLayoutWorker();
  const file = opts.file ?? join(dir, "data.bin");
  if (opts.exe) copyFileSync(binary, opts.exe);
  const child: Subprocess<"pipe", "pipe", "inherit"> = Bun.spawn(
    [opts.exe ?? binary, ...layoutArgs(layout, file)],
    {
      ...(opts.argv0 ? { argv0: opts.argv0 } : {}),
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const text = await readFirstLine(child.stdout);
  if (text.trim() !== "ready") {
    child.kill();
    throw new Error(`layout worker failed: ${text.trim()}`);
  }
  return {
    pid: child.pid,
    file,
    binary,
    async stop() {
      child.stdin.end();
      child.kill();
      await child.exited;
    },
  };
}
