/**
 * `npm run bench`: every benchmark, printed as ratios against baselines
 * measured in the same run. Results also go to bench/out/ (not committed).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchExporter, printExporterBench } from "./exporter.ts";
import { benchScan, printScanBench } from "./scan.ts";
import { benchStress, printStressBench } from "./stress.ts";

const REPO = join(import.meta.dir, "..");
const BINARY = join(REPO, "dist", "vmaudit");

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  const scan = await benchScan(BINARY);
  printScanBench(scan);
  results.scan = scan;
  if (process.getuid?.() === 0) {
    const stress = await benchStress(BINARY);
    printStressBench(stress);
    results.stress = stress;
  } else {
    console.log("stress benchmark: skipped (needs root to set vm.max_map_count)");
  }
  const exporter = await benchExporter(BINARY);
  printExporterBench(exporter);
  results.exporter = exporter;
  mkdirSync(join(REPO, "bench", "out"), { recursive: true });
  writeFileSync(
    join(REPO, "bench", "out", "results.json"),
    `${JSON.stringify(results, null, 2)}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
