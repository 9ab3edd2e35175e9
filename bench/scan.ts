/**
 * Start-up and scan: the targets of issue 12, each against a baseline
 * measured in the same run, interleaved, without a shell (as hyperfine -N).
 *
 * - start-up: `vmaudit --version` against a hello world (`console.log`)
 *   built by the same Bun with the same flags (`--compile --minify
 *   --bytecode`), here, now: at most hello + 1.5 ms;
 * - scan efficiency with a process holding 60,000 extra VMAs:
 *   (scan - hello) / floor at most 1.15, where the floor is
 *   `cat /proc/[0-9]*\/maps`;
 * - with 1,500 extra small processes (sleep): scan at most
 *   `cat /proc/[0-9]*\/{maps,cmdline,stat}`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../scripts/build.ts";
import { spawnHolder } from "../test/helpers/holder.ts";
import { interleaveSpawn, procGlob, verdict } from "./lib.ts";

/** The targets, as the issue states them. */
export const TARGETS = {
  /** --version wall - hello wall, at most this many ms. */
  versionOverHelloMs: 1.5,
  /** (scan wall - hello wall) / floor with a 60,000-VMA process. */
  scanEfficiency: 1.15,
  /** scan wall / cat of maps, cmdline and stat, with 1,500 extra processes. */
  manyProcessesRatio: 1.0,
} as const;

export const HOLDER_VMAS = 60_000;
export const EXTRA_PROCESSES = 1_500;

export interface ScanBench {
  bun: string;
  startup: { runs: number; helloMs: number; versionMs: number; helpMs: number; overMs: number };
  bigProcess: {
    runs: number;
    holderVmas: number;
    helloMs: number;
    floorMs: number;
    scanMs: number;
    efficiency: number;
  };
  manyProcesses: {
    runs: number;
    extra: number;
    processes: number;
    helloMs: number;
    catMs: number;
    scanMs: number;
    ratio: number;
  };
}

/** A hello world compiled by this Bun with vmaudit's own build function and flags. */
async function buildHello(dir: string): Promise<string> {
  const entry = join(dir, "hello.ts");
  writeFileSync(entry, 'console.log("hello");\n');
  const out = join(dir, "hello");
  await compile(out, "bench", undefined, entry);
  return out;
}

/** `n` sleeping processes, for a /proc with many small entries. */
function spawnSleepers(n: number): { stop(): Promise<void> } {
  const children = Array.from({ length: n }, () =>
    Bun.spawn(["sleep", "3600"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }),
  );
  return {
    async stop() {
      for (const c of children) c.kill();
      await Promise.all(children.map((c) => c.exited));
    },
  };
}

export async function benchScan(binary: string): Promise<ScanBench> {
  const dir = mkdtempSync(join(tmpdir(), "vmaudit-bench-"));
  try {
    const hello = await buildHello(dir);
    const helloArgv = () => [hello];
    const scanArgv = () => [binary, "scan", "--json"];

    const startupRuns = 101;
    const s = interleaveSpawn(
      {
        hello: helloArgv,
        version: () => [binary, "--version"],
        help: () => [binary, "--help"],
      },
      startupRuns,
      10,
    );

    const bigRuns = 31;
    const holder = await spawnHolder(HOLDER_VMAS);
    let big: Record<string, number>;
    try {
      big = interleaveSpawn(
        { hello: helloArgv, floor: () => ["cat", ...procGlob("maps")], scan: scanArgv },
        bigRuns,
      );
    } finally {
      await holder.stop();
    }

    const manyRuns = 21;
    const sleepers = spawnSleepers(EXTRA_PROCESSES);
    let many: Record<string, number>;
    let processes = 0;
    try {
      await Bun.sleep(500);
      processes = procGlob("maps").length;
      many = interleaveSpawn(
        {
          hello: helloArgv,
          cat: () => ["cat", ...procGlob("maps", "cmdline", "stat")],
          scan: scanArgv,
        },
        manyRuns,
      );
    } finally {
      await sleepers.stop();
    }

    const n = (r: Record<string, number>, k: string) => r[k] as number;
    return {
      bun: Bun.version,
      startup: {
        runs: startupRuns,
        helloMs: n(s, "hello"),
        versionMs: n(s, "version"),
        helpMs: n(s, "help"),
        overMs: n(s, "version") - n(s, "hello"),
      },
      bigProcess: {
        runs: bigRuns,
        holderVmas: holder.mapped,
        helloMs: n(big, "hello"),
        floorMs: n(big, "floor"),
        scanMs: n(big, "scan"),
        efficiency: (n(big, "scan") - n(big, "hello")) / n(big, "floor"),
      },
      manyProcesses: {
        runs: manyRuns,
        extra: EXTRA_PROCESSES,
        processes,
        helloMs: n(many, "hello"),
        catMs: n(many, "cat"),
        scanMs: n(many, "scan"),
        ratio: n(many, "scan") / n(many, "cat"),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printScanBench(b: ScanBench): void {
  const ms = (x: number) => `${x.toFixed(2).padStart(8)} ms`;
  const st = b.startup;
  console.log(
    `start-up (median of ${st.runs} interleaved runs; Bun ${b.bun}, --compile --minify --bytecode)`,
  );
  console.log(`  hello world (console.log)        ${ms(st.helloMs)}`);
  console.log(
    `  vmaudit --version                ${ms(st.versionMs)}   hello + ${st.overMs.toFixed(2)} ms   target <= hello + ${TARGETS.versionOverHelloMs} ms: ${verdict(st.overMs <= TARGETS.versionOverHelloMs)}`,
  );
  console.log(
    `  vmaudit --help                   ${ms(st.helpMs)}   hello + ${(st.helpMs - st.helloMs).toFixed(2)} ms`,
  );
  const bp = b.bigProcess;
  console.log(
    `scan with a process holding ${bp.holderVmas} extra VMAs (median of ${bp.runs} interleaved runs)`,
  );
  console.log(`  hello world                      ${ms(bp.helloMs)}`);
  console.log(`  cat /proc/[0-9]*/maps (floor)    ${ms(bp.floorMs)}`);
  console.log(`  vmaudit scan --json              ${ms(bp.scanMs)}`);
  console.log(
    `  efficiency (scan - hello) / floor  ${bp.efficiency.toFixed(3).padStart(6)}      target <= ${TARGETS.scanEfficiency}: ${verdict(bp.efficiency <= TARGETS.scanEfficiency)}`,
  );
  const mp = b.manyProcesses;
  console.log(
    `scan with ${mp.extra} extra small processes, ${mp.processes} in all (median of ${mp.runs} interleaved runs)`,
  );
  console.log(`  hello world                      ${ms(mp.helloMs)}`);
  console.log(`  cat /proc/[0-9]*/{maps,cmdline,stat} ${ms(mp.catMs).trimStart().padStart(7)}`);
  console.log(`  vmaudit scan --json              ${ms(mp.scanMs)}`);
  console.log(
    `  ratio scan / cat                 ${mp.ratio.toFixed(3).padStart(8)}      target <= ${TARGETS.manyProcessesRatio.toFixed(2)}: ${verdict(mp.ratio <= TARGETS.manyProcessesRatio)}`,
  );
}
