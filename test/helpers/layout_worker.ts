/**
 * Compile and run test/helpers/layout_worker.c: a process with a known VMA
 * layout. Needs a C compiler and static glibc (Debian gcc + libc6-dev, listed
 * in scripts/test-deps.sh). A C program rather than a Bun worker because the
 * Bun runtime's own mappings and threads vary from run to run, and the
 * inspect tests need every group exact.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

export async function spawnLayoutWorker(layout: Layout): Promise<LayoutWorker> {
  const { dir, binary } = buildLayoutWorker();
  const file = join(dir, "data.bin");
  const child: Subprocess<"pipe", "pipe", "inherit"> = Bun.spawn(
    [
      binary,
      String(layout.anon),
      String(layout.protNone),
      String(layout.fileMaps),
      String(layout.shared),
      String(layout.threads),
      file,
    ],
    { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
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
