/**
 * End-to-end: `vmaudit stress` and its worker, compiled, on the real kernel.
 * These change vm.max_map_count and map up to ~65k VMAs: run them under
 * `flock /tmp/vmaudit-kernel.lock`. The limit is saved first and checked
 * after every test and in afterAll.
 */
import { afterAll, afterEach, beforeAll, describe, expect } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { journalPath } from "../../src/limit/journal.ts";
import { spawnWorker } from "../../src/stress/worker_process.ts";
import { WORKER_COMMAND } from "../../stress/contract.ts";
import { binary, IS_ROOT, readLimit, rootTest, runBinary } from "../helpers/env.ts";
import { spawnHolder } from "../helpers/holder.ts";

const DEFAULT_RUN_DIR = "/run/vmaudit";
let original = 0;
let runDir = "";

beforeAll(() => {
  original = readLimit();
  runDir = mkdtempSync(join(tmpdir(), "vmaudit-run-"));
});

afterEach(() => {
  // Every test leaves the limit as it found it.
  if (IS_ROOT) expect(readLimit()).toBe(original);
});

afterAll(() => {
  if (IS_ROOT && readLimit() !== original) {
    writeFileSync("/proc/sys/vm/max_map_count", `${original}\n`);
  }
  rmSync(runDir, { recursive: true, force: true });
  if (IS_ROOT) {
    expect(readLimit()).toBe(original);
    expect(existsSync(journalPath(DEFAULT_RUN_DIR))).toBe(false);
  }
});

/** The kernel's map_count for a process, read without vmaudit: lines minus [vsyscall]. */
function kernelCount(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/maps`, "utf8")
    .split("\n")
    .filter((l) => l !== "");
  return lines.length - (lines.at(-1)?.endsWith("[vsyscall]") ? 1 : 0);
}

/** Gone, or a zombie waiting for a reaper: either way it holds nothing. */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

async function waitFor(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** The stress worker whose parent is `ppid`, if any. */
function findWorker(ppid: number): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent !== ppid) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(WORKER_COMMAND))
        return Number(name);
    } catch {
      // Exited while we looked.
    }
  }
  return undefined;
}

/** Wait until the harness `ppid` has started its worker; its pid. */
async function waitForWorker(ppid: number): Promise<number> {
  let pid: number | undefined;
  await waitFor("the worker", () => {
    pid = findWorker(ppid);
    return pid !== undefined;
  });
  return pid as number;
}

function stressJson(args: string[], env: Record<string, string> = {}) {
  const r = runBinary(["stress", "--json", ...args], { env });
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describe("the stress worker (compiled)", () => {
  rootTest(
    "its count is exact at every checkpoint: baseline plus what it created",
    async () => {
      const checkpoints = [1000, 5000, 10000, 20000];
      const w = spawnWorker(
        {
          target: 20000,
          checkpoints,
          limitCheck: false,
          timeLimitSeconds: 60,
          parentPid: process.pid,
        },
        binary(),
      );
      try {
        const first = await w.next();
        expect(first?.kind).toBe("baseline");
        const baseline = first?.kind === "baseline" ? first.vmas : -1;
        expect(kernelCount(w.pid)).toBe(baseline);
        w.resume();
        const seen: number[] = [];
        for (;;) {
          const m = await w.next();
          if (!m || m.kind === "done") break;
          if (m.kind !== "checkpoint") continue;
          seen.push(m.created);
          expect(kernelCount(w.pid)).toBe(baseline + m.created);
          // Paused means quiet: the runtime adds or drops nothing meanwhile.
          await Bun.sleep(100);
          expect(kernelCount(w.pid)).toBe(baseline + m.created);
          w.resume();
        }
        expect(seen).toEqual(checkpoints);
      } finally {
        await w.stop();
      }
      expect(await w.exited).toBe(0);
    },
    30_000,
  );
});

describe("vmaudit stress (compiled, real kernel)", () => {
  rootTest(
    "--target 20000 under the default limit: reached, then refused at limit + 1",
    () => {
      const { code, report, stderr } = stressJson(["--target", "20000"], {
        VMAUDIT_RUN_DIR: runDir,
      });
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(report.schemaVersion).toBe(1);
      expect(report.targetReached).toBe(true);
      expect(report.limit).toMatchObject({ original, requested: null, during: original });
      expect(report.checkpoints.map((c: { created: number }) => c.created)).toEqual([
        2000, 5000, 10000, 20000,
      ]);
      for (const c of report.checkpoints) {
        expect(c.exact).toBe(true);
        expect(c.vmas).toBe(report.worker.baseline + c.created);
        expect(c.scan.repeat).toBe(5);
        expect(c.scan.medianMs).toBeGreaterThan(0);
      }
      expect(report.allExact).toBe(true);
      expect(report.limitCheck.expectedPeak).toBe(original + 1);
      expect(report.limitCheck.observedPeak).toBe(original + 1);
      expect(report.limitCheck.observedCreated).toBe(original + 1 - report.worker.baseline);
      expect(report.limitCheck.errno).toBe(12);
      expect(report.limitCheck.exact).toBe(true);
      expect(report.honored).toBe(true);
      expect(report.creation.vmasPerSecond).toBeGreaterThan(0);
      expect(report.slab.objsize).toBeGreaterThan(0);
      expect(report.worker.rssBytes).toBeGreaterThan(0);
      expect(report.fullScan.workerVmas).toBe(report.worker.baseline + 20000);
      expect(report.fullScan.wallMs).toBeGreaterThan(0);
      // vmaudit's own worker (20000 VMAs, the busiest by far) is left out of the full scan.
      expect(report.fullScan.busiest?.pid).not.toBe(report.worker.pid);
      expect(report.suggestion).toBeNull();
      expect(isGone(report.worker.pid)).toBe(true);
    },
    60_000,
  );

  rootTest(
    "--limit 30000 --target 50000: refused at 30001, honored, the limit restored (default journal dir)",
    () => {
      const r = runBinary(["stress", "--limit", "30000", "--target", "50000"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("vm.max_map_count: 30000 during the run, restored to");
      expect(r.stdout).toContain("mmap refused at 30001 VMAs (ENOMEM)");
      expect(r.stdout).toContain("limit honored: expected 30001, observed 30001");
      expect(r.stdout).toContain("Target not reached");
      expect(r.stdout).not.toContain("vmaudit apply");
      expect(readLimit()).toBe(original);
      expect(existsSync(journalPath(DEFAULT_RUN_DIR))).toBe(false);

      const { code, report } = stressJson(["--limit", "30000", "--target", "50000"]);
      expect(code).toBe(0);
      expect(report.limit).toMatchObject({ original, requested: 30000, during: 30000 });
      expect(report.limitCheck.observedPeak).toBe(30001);
      expect(report.honored).toBe(true);
      expect(report.limit.restore).toEqual({
        value: original,
        readBack: original,
        ok: true,
        error: null,
      });
      expect(readLimit()).toBe(original);
    },
    60_000,
  );

  rootTest(
    "a target above the limit without --limit: where the kernel refused, and the apply command",
    () => {
      const r = runBinary(["stress", "--target", "100000", "--checkpoints", "50"], {
        env: { VMAUDIT_RUN_DIR: runDir },
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/Target not reached: the kernel refused at 65531 VMAs/);
      expect(r.stdout).toMatch(/run: sudo vmaudit apply 160000/);
      const { code, report } = stressJson(["--target", "100000", "--checkpoints", "50"], {
        VMAUDIT_RUN_DIR: runDir,
      });
      expect(code).toBe(1);
      expect(report.targetReached).toBe(false);
      expect(report.honored).toBe(true);
      expect(report.suggestion.peak).toBe(100000 + report.worker.baseline);
      expect(report.suggestion.command).toBe("sudo vmaudit apply 160000");
      expect(report.checkpoints).toHaveLength(1);
    },
    60_000,
  );
});

describe("vmaudit stress is interrupted", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    rootTest(
      `${signal} mid-run with --limit: the limit is restored, the worker is gone, no journal is left`,
      async () => {
        const p = Bun.spawn(
          [binary(), "stress", "--target", "150000", "--limit", "200000", "--repeat", "50"],
          { env: { ...process.env, VMAUDIT_RUN_DIR: runDir }, stdout: "pipe", stderr: "pipe" },
        );
        const worker = await waitForWorker(p.pid);
        // Mid-run: the worker is holding thousands of mappings.
        await waitFor("the worker to map", () => !isGone(worker) && kernelCount(worker) > 5000);
        expect(existsSync(journalPath(runDir))).toBe(true);
        expect(readLimit()).toBe(200000);
        process.kill(p.pid, signal);
        expect(await p.exited).toBe(code);
        const err = await new Response(p.stderr).text();
        expect(err).toContain(
          `Interrupted by ${signal}: the worker was stopped, vm.max_map_count restored to ${original}`,
        );
        expect(readLimit()).toBe(original);
        expect(existsSync(journalPath(runDir))).toBe(false);
        await waitFor("the worker to end", () => isGone(worker), 3000);
      },
      60_000,
    );
  }

  rootTest(
    "SIGKILL of the harness mid-run: the worker dies with it, and the next run restores from the journal",
    async () => {
      const p = Bun.spawn(
        [binary(), "stress", "--target", "150000", "--limit", "200000", "--repeat", "50"],
        { stdout: "ignore", stderr: "ignore" },
      );
      const worker = await waitForWorker(p.pid);
      // Mid-run: the worker is holding thousands of mappings.
      await waitFor("the worker to map", () => !isGone(worker) && kernelCount(worker) > 5000);
      process.kill(p.pid, "SIGKILL");
      await p.exited;
      try {
        await waitFor("the worker to die with its parent", () => isGone(worker), 3000);
        expect(readLimit()).toBe(200000);
        const journal = JSON.parse(readFileSync(journalPath(DEFAULT_RUN_DIR), "utf8"));
        expect(journal).toMatchObject({
          originalLimit: original,
          temporaryLimit: 200000,
          pid: p.pid,
        });
        // scan warns while the journal exists.
        const scan = JSON.parse(runBinary(["scan", "--json"]).stdout);
        expect(scan.warnings.join("\n")).toContain("The next 'sudo vmaudit stress' restores it");

        const next = runBinary(["stress", "--target", "1000", "--no-limit-check", "--json"]);
        expect(next.code).toBe(0);
        expect(next.stderr).toContain(
          `restored vm.max_map_count to ${original} from the journal of an unfinished run`,
        );
        expect(JSON.parse(next.stdout).journalRecovery).toMatchObject({
          restoredLimit: original,
          temporaryLimit: 200000,
          pid: p.pid,
        });
        expect(readLimit()).toBe(original);
        expect(existsSync(journalPath(DEFAULT_RUN_DIR))).toBe(false);
      } finally {
        if (readLimit() !== original) writeFileSync("/proc/sys/vm/max_map_count", `${original}\n`);
        rmSync(journalPath(DEFAULT_RUN_DIR), { force: true });
      }
    },
    60_000,
  );
});

describe("vmaudit stress guards: exit codes, and nothing changed", () => {
  const cases: [string[], number, RegExp][] = [
    [[], 2, /Missing --target N/],
    [["--target", "0"], 2, /Cannot use --target "0": expected a positive integer/],
    [["--target", "abc"], 2, /Cannot parse --target "abc"/],
    [["--target", "2147483648"], 2, /expected at most 2147483647/],
    [["--target", "10", "--limit", "0"], 2, /--limit "0"/],
    [["--target", "10", "--limit", "-1"], 2, /--limit "-1"/],
    [
      ["--target", "2000001"],
      2,
      /Refusing --target 2000001: above 2000000, one process may pin .*MiB/,
    ],
    [["--target", "10", "--limit", "2000001"], 2, /Refusing --limit 2000001: above 2000000.*pin/],
    [["--target", "10", "--checkpoints", "0"], 2, /--checkpoints "0"/],
    [["--target", "10", "--repeat", "0"], 2, /--repeat "0"/],
    [["--target", "10", "--bogus"], 2, /Unknown option "--bogus"/],
  ];
  for (const [args, code, message] of cases) {
    rootTest(`stress ${args.join(" ")} exits ${code}`, () => {
      const r = runBinary(["stress", ...args], { env: { VMAUDIT_RUN_DIR: runDir } });
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
      expect(readLimit()).toBe(original);
      expect(existsSync(journalPath(runDir))).toBe(false);
    });
  }

  rootTest(
    "--limit below a running process's VMA count is refused unless --force",
    async () => {
      const holder = await spawnHolder(3000);
      try {
        const r = runBinary(["stress", "--target", "10", "--limit", "2000"], {
          env: { VMAUDIT_RUN_DIR: runDir },
        });
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/Refusing --limit 2000: pid \d+ \(.*\) has \d+ VMAs now/);
        expect(r.stderr).toContain("Pass --force");
        expect(readLimit()).toBe(original);
        expect(existsSync(journalPath(runDir))).toBe(false);
        expect(findWorker(process.pid)).toBeUndefined();
      } finally {
        await holder.stop();
      }
    },
    30_000,
  );

  rootTest("--limit needs root: exit 77 as nobody, nothing changed", () => {
    const r = runBinary(["stress", "--target", "10", "--limit", "70000"], {
      prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
      env: { VMAUDIT_RUN_DIR: runDir },
    });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/Cannot use --limit 70000: changing vm.max_map_count needs root/);
    expect(readLimit()).toBe(original);
  });
});
