/**
 * Stress benchmark (root): `vmaudit stress --target 100000 --limit 120000
 * --json`, its creation rate against a plain C loop of the same mmap calls
 * (built with the system cc into a temp dir at bench time), and the scan time
 * of one 100k-VMA worker against `wc -l /proc/PID/maps` on that same worker.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "../src/core/median.ts";
import { runDir } from "../src/limit/journal.ts";
import { resultOf, withTemporaryLimit } from "../src/limit/temporary.ts";
import { READ_BUFFER_BYTES } from "../src/proc/maps.ts";
import { timeMapsScans } from "../src/stress/scan_timing.ts";
import { spawnWorker } from "../src/stress/worker_process.ts";
import { timeShell, verdict } from "./lib.ts";

const TARGET = 100_000;
const LIMIT = 120_000;

export interface StressBench {
  rounds: number;
  /** VMAs/s of vmaudit's worker (mapping time only, from --json). */
  vmauditRate: number;
  /** VMAs/s of the C loop, mapping until ENOMEM under the same limit. */
  plainRate: number;
  creationRatio: number;
  /** The harness's own median scan time at 100% (from --json). */
  harnessScanMs: number;
  scanRuns: number;
  workerVmas: number;
  scanMs: number;
  wcMs: number;
  wcStartupMs: number;
  scanRatio: number;
  honored: boolean;
}

/** The same calls as stress/vma_pool.ts: one page, MAP_FIXED_NOREPLACE, a hole after each. */
const C_LOOP = `#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
int main(int argc, char **argv) {
  long max = argc > 1 ? atol(argv[1]) : 1L << 40;
  long page = sysconf(_SC_PAGESIZE);
  char *next = (char *)0x100000000000UL;
  struct timespec a, b;
  long n = 0;
  int err = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  while (n < max) {
    void *p = mmap(next, page, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    next += 2 * page;
    if (p == MAP_FAILED) {
      if (errno == EEXIST) continue;
      err = errno;
      break;
    }
    n++;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double us = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
  printf("%ld %.0f %d\\n", n, us, err);
  return 0;
}
`;

function buildCLoop(dir: string): string {
  writeFileSync(join(dir, "mmap_loop.c"), C_LOOP);
  const out = join(dir, "mmap_loop");
  const r = Bun.spawnSync(["cc", "-O2", "-o", out, join(dir, "mmap_loop.c")], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`cc failed: ${r.stderr.toString()}`);
  return out;
}

/** Run `fn` with vm.max_map_count at `value`: the same transaction as `stress --limit`. */
async function withLimit<T>(value: number, fn: () => Promise<T> | T): Promise<T> {
  return resultOf(
    await withTemporaryLimit(
      value,
      { procfs: "/proc", runDir: runDir(), command: "bench/stress.ts" },
      fn,
    ),
  );
}

export async function benchStress(binary: string, rounds = 5, scanRuns = 21): Promise<StressBench> {
  const dir = mkdtempSync(join(tmpdir(), "vmaudit-bench-"));
  try {
    const loop = buildCLoop(dir);
    const vmauditRates: number[] = [];
    const plainRates: number[] = [];
    const harnessScans: number[] = [];
    let honored = true;
    // Alternate the two, so drift on a noisy machine hits both alike.
    for (let i = 0; i < rounds; i++) {
      const r = Bun.spawnSync(
        [binary, "stress", "--target", String(TARGET), "--limit", String(LIMIT), "--json"],
        { stdout: "pipe", stderr: "inherit" },
      );
      const failed = r.exitCode === 1 ? JSON.parse(r.stdout.toString()) : undefined;
      if (r.exitCode !== 0) {
        const why = failed
          ? ` (${JSON.stringify({ allExact: failed.allExact, honored: failed.honored, worker: failed.worker, checkpoints: failed.checkpoints.map((c: { vmas: number; expectedVmas: number }) => [c.vmas, c.expectedVmas]), limitCheck: failed.limitCheck, warnings: failed.warnings })})`
          : "";
        throw new Error(`vmaudit stress exited ${r.exitCode}${why}`);
      }
      const report = JSON.parse(r.stdout.toString());
      honored &&= report.honored === true;
      vmauditRates.push(report.creation.vmasPerSecond);
      harnessScans.push(report.checkpoints.at(-1).scan.medianMs);
      const out = await withLimit(LIMIT, () => Bun.spawnSync([loop], { stdout: "pipe" }));
      const [n, us] = out.stdout.toString().trim().split(" ").map(Number) as [number, number];
      plainRates.push((n / us) * 1e6);
    }

    const scan = await withLimit(LIMIT, async () => {
      const w = spawnWorker(
        {
          target: TARGET,
          checkpoints: [TARGET],
          limitCheck: false,
          timeLimitSeconds: 300,
          parentPid: process.pid,
        },
        binary,
      );
      try {
        for (;;) {
          const m = await w.next();
          if (!m) throw new Error("The worker ended early");
          if (m.kind === "baseline") w.resume();
          if (m.kind === "checkpoint") break;
        }
        const path = `/proc/${w.pid}/maps`;
        const buf = Buffer.alloc(READ_BUFFER_BYTES);
        const ours: number[] = [];
        const wc: number[] = [];
        const startup: number[] = [];
        let vmas = 0;
        for (let i = 0; i < scanRuns + 3; i++) {
          const t = timeMapsScans(path, 1, buf);
          const w1 = timeShell(`wc -l < ${path} > /dev/null`);
          const s1 = timeShell("wc -l < /dev/null > /dev/null");
          if (i < 3) continue;
          ours.push(t.medianMs);
          wc.push(w1);
          startup.push(s1);
          vmas = t.vmas[0] as number;
        }
        return { vmas, scanMs: median(ours), wcMs: median(wc), wcStartupMs: median(startup) };
      } finally {
        await w.stop();
      }
    });

    const vmauditRate = median(vmauditRates);
    const plainRate = median(plainRates);
    return {
      rounds,
      vmauditRate,
      plainRate,
      creationRatio: vmauditRate / plainRate,
      harnessScanMs: median(harnessScans),
      scanRuns,
      workerVmas: scan.vmas,
      scanMs: scan.scanMs,
      wcMs: scan.wcMs,
      wcStartupMs: scan.wcStartupMs,
      scanRatio: scan.scanMs / (scan.wcMs - scan.wcStartupMs),
      honored,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printStressBench(b: StressBench): void {
  const f = (n: number) => n.toFixed(1).padStart(9);
  const rate = (n: number) => Math.round(n).toLocaleString("en-US").padStart(9);
  console.log(
    `stress benchmark (median of ${b.rounds} rounds of 'stress --target ${TARGET} --limit ${LIMIT} --json', alternated with a C loop)`,
  );
  console.log(`  vmaudit stress creation    ${rate(b.vmauditRate)} VMAs/s`);
  console.log(`  plain C mmap loop          ${rate(b.plainRate)} VMAs/s`);
  console.log(
    `  ratio vmaudit / C          ${b.creationRatio.toFixed(3).padStart(9)}        target >= 0.8: ${verdict(b.creationRatio >= 0.8)}`,
  );
  console.log(`  limit honored in every run ${String(b.honored).padStart(9)}`);
  console.log(`scan of one worker holding ${b.workerVmas} VMAs (median of ${b.scanRuns})`);
  console.log(
    `  vmaudit (scan's reader)    ${f(b.scanMs)} ms   ${((b.scanMs * 1000) / b.workerVmas).toFixed(3)} µs/VMA; harness median at 100%: ${b.harnessScanMs.toFixed(1)} ms`,
  );
  console.log(
    `  wc -l /proc/PID/maps       ${f(b.wcMs)} ms   (${f(b.wcMs - b.wcStartupMs).trim()} ms without wc's start-up of ${b.wcStartupMs.toFixed(1)} ms)`,
  );
  console.log(
    `  ratio vmaudit / wc -l      ${b.scanRatio.toFixed(3).padStart(9)}        target <= 1.2: ${verdict(b.scanRatio <= 1.2)}`,
  );
}
