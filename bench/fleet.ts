/**
 * `vmaudit fleet` over 1,000 host reports (each as `scan --json` writes
 * it), against baselines measured in the same run, interleaved:
 * - `cat` of the 1,000 files: the floor of reading them;
 * - `jq .recommendedLimit` of the 1,000 files: a C JSON parser reading
 *   the same bytes and printing one field each.
 * No target: the numbers say what a fleet of this size costs.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeScanJson, generatedFleet, writeReports } from "../test/helpers/fleet_reports.ts";
import { interleaveSpawn } from "./lib.ts";

export const FLEET_REPORTS = 1000;

export interface FleetBench {
  reports: number;
  bytes: number;
  runs: number;
  catMs: number;
  jqMs: number | null;
  fleetJsonMs: number;
  fleetTextMs: number;
}

export function benchFleet(binary: string): FleetBench {
  const dir = mkdtempSync(join(tmpdir(), "vmaudit-bench-fleet-"));
  try {
    const hosts = generatedFleet(FLEET_REPORTS, 150_000);
    const files = writeReports(
      dir,
      Object.fromEntries(hosts.map((h) => [h.host as string, fakeScanJson(h)])),
    );
    const bytes = readdirSync(dir).reduce((sum, f) => sum + Bun.file(join(dir, f)).size, 0);
    const jq = Bun.which("jq");
    const runs = 21;
    const m = interleaveSpawn(
      {
        cat: () => ["cat", ...files],
        ...(jq ? { jq: () => [jq, ".recommendedLimit", ...files] } : {}),
        fleetJson: () => [binary, "fleet", "--json", dir],
        fleetText: () => [binary, "fleet", dir],
      },
      runs,
    );
    return {
      reports: FLEET_REPORTS,
      bytes,
      runs,
      catMs: m.cat as number,
      jqMs: m.jq ?? null,
      fleetJsonMs: m.fleetJson as number,
      fleetTextMs: m.fleetText as number,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printFleetBench(b: FleetBench): void {
  const ms = (x: number) => `${x.toFixed(2).padStart(8)} ms`;
  console.log(
    `fleet over ${b.reports} scan reports, ${(b.bytes / 2 ** 20).toFixed(1)} MiB (median of ${b.runs} interleaved runs)`,
  );
  console.log(`  cat of the files (floor)         ${ms(b.catMs)}`);
  if (b.jqMs !== null) console.log(`  jq .recommendedLimit (each file) ${ms(b.jqMs)}`);
  else console.log("  jq: not installed, no parser baseline");
  console.log(
    `  vmaudit fleet --json             ${ms(b.fleetJsonMs)}   ${((b.fleetJsonMs * 1000) / b.reports).toFixed(0)} us per report${b.jqMs === null ? "" : `, ${(b.fleetJsonMs / b.jqMs).toFixed(2)} x jq`}`,
  );
  console.log(`  vmaudit fleet (text)             ${ms(b.fleetTextMs)}`);
}
