/**
 * Scan speed: `vmaudit scan --json` against `cat /proc/[0-9]*\/maps`, with a
 * process holding ~60,000 VMAs, plus start-up time.
 */
import { spawnHolder } from "../test/helpers/holder.ts";
import { interleave, verdict } from "./lib.ts";

export interface ScanBench {
  holderVmas: number;
  runs: number;
  catMs: number;
  scanMs: number;
  startupMs: number;
  ratio: number;
  ratioWithoutStartup: number;
}

export async function benchScan(binary: string, runs = 21): Promise<ScanBench> {
  const holder = await spawnHolder(60_000);
  try {
    const m = interleave(
      {
        cat: "cat /proc/[0-9]*/maps > /dev/null 2>/dev/null",
        scan: `${binary} scan --json > /dev/null`,
        startup: `${binary} --version > /dev/null`,
      },
      runs,
    );
    const catMs = m.cat as number;
    const scanMs = m.scan as number;
    const startupMs = m.startup as number;
    return {
      holderVmas: holder.mapped,
      runs,
      catMs,
      scanMs,
      startupMs,
      ratio: scanMs / catMs,
      ratioWithoutStartup: (scanMs - startupMs) / catMs,
    };
  } finally {
    await holder.stop();
  }
}

export function printScanBench(b: ScanBench): void {
  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(`scan benchmark (median of ${b.runs}, a process holding ${b.holderVmas} extra VMAs)`);
  console.log(`  cat /proc/[0-9]*/maps      ${f(b.catMs)} ms`);
  console.log(`  vmaudit scan --json        ${f(b.scanMs)} ms`);
  console.log(
    `  vmaudit --version          ${f(b.startupMs)} ms   target < 20 ms: ${verdict(b.startupMs < 20)}`,
  );
  console.log(
    `  ratio scan / cat           ${b.ratio.toFixed(3).padStart(7)}      target <= 1.15: ${verdict(b.ratio <= 1.15)}`,
  );
  console.log(
    `  ratio without start-up     ${b.ratioWithoutStartup.toFixed(3).padStart(7)}      ((scan - startup) / cat)`,
  );
}
