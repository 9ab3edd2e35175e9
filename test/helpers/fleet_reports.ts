/**
 * Scan reports of made-up hosts for the fleet tests, built by the scan's own
 * `buildScanReport`, so that they have exactly the shape `scan --json`
 * prints.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Collected } from "../../src/proc/collect.ts";
import { buildScanReport, type ScanReport } from "../../src/scan/report.ts";

export interface FakeHost {
  host: string | null;
  bootId?: string | null;
  kernelRelease?: string | null;
  /** vm.max_map_count; null: unreadable. */
  limit?: number | null;
  /** The processes: argv[0] names the application. */
  processes: { pid: number; argv: string[]; vmas: number }[];
  generatedAt?: Date;
  /** Also recommend for this peak (`scan --vma`). */
  vma?: number;
  objsize?: number;
}

/** A boot id that depends on `n` only. */
export function bootIdOf(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

export function fakeScanReport(h: FakeHost): ScanReport {
  const collected: Collected = {
    procfs: "/proc",
    samples: h.processes.map((p) => ({
      pid: p.pid,
      vmas: p.vmas,
      uid: 0,
      user: "root",
      argv: p.argv,
      comm: undefined,
    })),
    coverage: {
      seen: h.processes.length,
      scanned: h.processes.length,
      unreadable: 0,
      unreadableProcesses: [],
      vanished: 0,
      kernelThreads: 0,
      errors: {},
      self: 0,
    },
    durationMs: 3,
    asRoot: true,
  };
  return buildScanReport(
    collected,
    {
      maxMapCount: h.limit === undefined ? 65530 : (h.limit ?? undefined),
      slab: { ok: true, slab: { activeObjects: 10, totalObjects: 20, objsize: h.objsize ?? 192 } },
      identity: {
        host: h.host,
        kernelRelease: h.kernelRelease === undefined ? "6.1.0-18-amd64" : h.kernelRelease,
        bootId: h.bootId === undefined ? null : h.bootId,
      },
    },
    { top: 20, headroom: 1.5, round: 10000, vma: h.vma, anonymizeUser: undefined },
    h.generatedAt ?? new Date(),
  );
}

/** The report as `scan --json` prints it. */
export function fakeScanJson(h: FakeHost): string {
  return `${JSON.stringify(fakeScanReport(h), null, 2)}\n`;
}

/**
 * `n` hosts `host-0001`... with a few applications each and one host, the
 * last, with the highest peak (`peak` VMAs): what a 1,000-host test reads.
 */
export function generatedFleet(n: number, peak: number, now = new Date()): FakeHost[] {
  return Array.from({ length: n }, (_, i) => ({
    host: `host-${String(i + 1).padStart(4, "0")}`,
    bootId: bootIdOf(i + 1),
    limit: i % 3 === 0 ? 65530 : 262144,
    generatedAt: new Date(now.getTime() - (i % 60) * 1000),
    processes: [
      { pid: 1, argv: ["init"], vmas: 60 + (i % 7) },
      { pid: 100 + i, argv: ["java", "-jar", "app.jar"], vmas: 2000 + ((i * 37) % 20000) },
      { pid: 50_000 + i, argv: ["nginx"], vmas: 300 + (i % 50) },
      { pid: 60_000 + i, argv: ["/usr/bin/python3", `/opt/job-${i % 10}.py`], vmas: 900 },
      ...(i === n - 1 ? [{ pid: 77, argv: ["elasticsearch"], vmas: peak }] : []),
    ],
  }));
}

/** Write reports into `dir` as NAME.json; returns the paths. */
export function writeReports(dir: string, reports: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(reports).map(([name, text]) => {
    const path = join(dir, `${name}.json`);
    writeFileSync(path, text);
    return path;
  });
}
