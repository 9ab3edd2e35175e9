/**
 * A scan report built from fixed samples, for renderer tests: one app name
 * full of what the Prometheus text format must escape.
 */
import type { Collected } from "../../src/proc/collect.ts";
import { buildScanReport, type ScanReport } from "../../src/scan/report.ts";

/** An app name with everything the format must escape, and more. */
export const NASTY = 'my "app" C:\\Program Files\\x \\n not-a-newline\nsecond line {a="b"} é';

export function fixtureReport(
  over: { limit?: number | undefined; slab?: boolean; top?: number } = {},
): ScanReport {
  const collected: Collected = {
    procfs: "/proc",
    samples: [
      { pid: 10, vmas: 5000, uid: 0, user: "root", argv: [NASTY, "--x"], comm: undefined },
      { pid: 11, vmas: 300, uid: 0, user: "root", argv: ["/usr/bin/java"], comm: undefined },
      { pid: 12, vmas: 200, uid: 0, user: "root", argv: ["/usr/bin/java"], comm: undefined },
      { pid: 13, vmas: 100, uid: 0, user: "root", argv: ["bash"], comm: undefined },
    ],
    coverage: {
      seen: 6,
      scanned: 4,
      unreadable: 2,
      unreadableProcesses: [],
      vanished: 0,
      kernelThreads: 0,
      errors: {},
      self: 0,
    },
    durationMs: 12.5,
    asRoot: true,
  };
  const limit = "limit" in over ? over.limit : 65530;
  return buildScanReport(
    collected,
    {
      maxMapCount: limit,
      slab:
        over.slab === false
          ? { ok: false, reason: "root only" }
          : { ok: true, slab: { activeObjects: 1000, totalObjects: 1100, objsize: 192 } },
    },
    {
      top: over.top ?? 20,
      headroom: 1.5,
      round: 10000,
      vma: undefined,
      anonymizeUser: undefined,
    },
    new Date("2025-01-01T00:00:00Z"),
  );
}
