/**
 * `npm run bench`: every benchmark, printed as ratios against baselines
 * measured in the same run. Results also go to bench/out/ (not committed).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchExporter, printExporterBench } from "./exporter.ts";
import { benchFleet, printFleetBench } from "./fleet.ts";
import { benchScan, printScanBench } from "./scan.ts";
import { benchStress, printStressBench } from "./stress.ts";

const REPO = join(import.meta.dir, "..");
const BINARY = join(REPO, "dist", "vmaudit");

/**
 * Run one benchmark and print it; a benchmark that throws is reported and
 * the others still run (the exit code is then 1).
 */
async function part<T>(
  name: string,
  results: Record<string, unknown>,
  bench: () => Promise<T>,
  print: (r: T) => void,
): Promise<boolean> {
  try {
    const r = await bench();
    print(r);
    results[name] = r;
    return true;
  } catch (err) {
    console.error(`${name} benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    results[name] = { failed: err instanceof Error ? err.message : String(err) };
    return false;
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  let ok = await part("scan", results, () => benchScan(BINARY), printScanBench);
  ok = (await part("fleet", results, async () => benchFleet(BINARY), printFleetBench)) && ok;
  if (process.getuid?.() === 0) {
    ok = (await part("stress", results, () => benchStress(BINARY), printStressBench)) && ok;
  } else {
    console.log("stress benchmark: skipped (needs root to set vm.max_map_count)");
  }
  ok = (await part("exporter", results, () => benchExporter(BINARY), printExporterBench)) && ok;
  mkdirSync(join(REPO, "bench", "out"), { recursive: true });
  writeFileSync(
    join(REPO, "bench", "out", "results.json"),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  if (!ok) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
