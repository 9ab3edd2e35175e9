/**
 * The pure half of a scan: from collected samples and kernel facts to the
 * report that every renderer (text, JSON, later Prometheus) reads.
 */
import { type Anonymization, anonymizationOf, anonymizer } from "../core/anonymize.ts";
import { type AppKind, hiddenAppOf } from "../core/app_name.ts";
import { type RecommendationRow, recommendationFor } from "../core/recommend.ts";
import type { PeakEntry } from "../peaks/peaks_file.ts";
import type { Collected, Coverage } from "../proc/collect.ts";
import type { HostIdentity } from "../proc/host.ts";
import type { SlabCache, SlabRead } from "../proc/kernel.ts";
import { dosRiskWarning } from "../render/recommendation.ts";
import { formatCount } from "../render/units.ts";

export const SCAN_SCHEMA_VERSION = 1;

export interface ScanOptions {
  /** How many processes to list. */
  top: number;
  headroom: number;
  round: number;
  /** The largest VMA count expected for any process, if the user gave one. */
  vma: number | undefined;
  /** The invoking user's name, replaced by `<user>` in command lines. */
  anonymizeUser: string | undefined;
  /** The highest peak of a peaks file (`--peaks`), already read. */
  recordedPeak?: PeakEntry | undefined;
}

export interface KernelFacts {
  maxMapCount: number | undefined;
  slab: SlabRead;
  /** Host name, kernel release and boot id of the proc tree; all null when left out. */
  identity?: HostIdentity;
}

export interface ProcessRow {
  pid: number;
  vmas: number;
  user: string;
  app: string;
  appKind: AppKind;
  argv: string[];
  /** argv joined with spaces, for display. */
  commandLine: string;
}

export interface AppStats {
  name: string;
  kind: AppKind;
  instances: number;
  max: number;
  /** Rounded to the nearest integer. */
  mean: number;
  min: number;
  total: number;
}

export interface ScanReport {
  schemaVersion: typeof SCAN_SCHEMA_VERSION;
  generatedAt: string;
  /** `<procfs>/sys/kernel/hostname`, or null when it cannot be read. Added to schema 1 (fields are only ever added). */
  host: string | null;
  /** `<procfs>/sys/kernel/osrelease`, or null. */
  kernelRelease: string | null;
  /** `<procfs>/sys/kernel/random/boot_id`: one per boot of the host, or null. */
  bootId: string | null;
  procfs: string;
  durationMs: number;
  /** vm.max_map_count is a per-process limit, not a system-wide total. */
  limitScope: "per-process";
  maxMapCount: number | null;
  totalVmas: number;
  processCount: number;
  topProcesses: ProcessRow[];
  applications: AppStats[];
  kernel: {
    maxMapCount: number | null;
    vmaSlab: (SlabCache & { activeBytes: number; totalBytes: number }) | null;
    vmaSlabUnavailable: string | null;
  };
  settings: {
    headroom: number;
    round: number;
    vma: number | null;
    top: number;
    /** The recorded peak used from `--peaks`, or null. */
    recordedPeak: PeakEntry | null;
  };
  recommendations: RecommendationRow[];
  /** The highest limit among the recommendations: what `apply` sets with no VALUE. */
  recommendedLimit: number | null;
  coverage: Coverage;
  /** Whether the scan ran as root. */
  asRoot: boolean;
  /**
   * Whether the invoking user's name is shown as `<user>` (see
   * core/anonymize.ts). The one British spelling among the identifiers: it
   * is a key of the published JSON (schema 1), so it stays as it was.
   */
  anonymisation: Anonymization;
  /** Every warning the text report prints, in the same words. */
  warnings: string[];
}

/**
 * The warning for processes whose maps could not be read, naming them when
 * there are few; undefined when every process was read.
 *
 * @example
 * unreadableWarning({ ...coverage, unreadable: 1, unreadableProcesses: [{ pid: 9, comm: "sshd" }] }, false);
 * // "1 process could not be read (permission denied): pid 9 (sshd); run as root (sudo vmaudit scan) to include it"
 */
export function unreadableWarning(c: Coverage, asRoot: boolean): string | undefined {
  const n = c.unreadable;
  if (n === 0) return undefined;
  const named =
    c.unreadableProcesses.length === n
      ? `: ${c.unreadableProcesses.map((u) => `pid ${u.pid}${u.comm === null ? "" : ` (${u.comm})`}`).join(", ")}`
      : "";
  return asRoot
    ? `${formatCount(n, "process", "processes")} could not be read even as root (permission denied: a protected process, such as a sandbox's init)${named}`
    : `${formatCount(n, "process", "processes")} could not be read (permission denied)${named}; run as root (sudo vmaudit scan) to include ${n === 1 ? "it" : "them"}`;
}

/**
 * Per-application statistics, sorted by max descending, then name ascending.
 *
 * @example
 * appStatistics([{ app: "a", appKind: "plain", vmas: 3 }, { app: "a", appKind: "plain", vmas: 4 }])[0]?.mean; // 4
 */
export function appStatistics(
  rows: readonly Pick<ProcessRow, "app" | "appKind" | "vmas">[],
): AppStats[] {
  const byName = new Map<string, AppStats>();
  for (const row of rows) {
    const s = byName.get(row.app);
    if (!s) {
      byName.set(row.app, {
        name: row.app,
        kind: row.appKind,
        instances: 1,
        max: row.vmas,
        mean: 0,
        min: row.vmas,
        total: row.vmas,
      });
      continue;
    }
    s.instances++;
    s.total += row.vmas;
    if (row.vmas > s.max) s.max = row.vmas;
    if (row.vmas < s.min) s.min = row.vmas;
  }
  const stats = [...byName.values()];
  for (const s of stats) s.mean = Math.round(s.total / s.instances);
  return stats.sort((a, b) => b.max - a.max || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Build the scan report.
 *
 * @example
 * const report = buildScanReport(collectProcesses("/proc"), kernel, options, new Date());
 */
export function buildScanReport(
  collected: Collected,
  kernel: KernelFacts,
  options: ScanOptions,
  now: Date,
  warnings: string[] = [],
): ScanReport {
  const hide = anonymizer(options.anonymizeUser);
  const rows: ProcessRow[] = collected.samples.map((s) => {
    const app = hiddenAppOf(s, hide);
    const argv = s.argv.map(hide);
    return {
      pid: s.pid,
      vmas: s.vmas,
      user: hide(s.user),
      app: app.name,
      appKind: app.kind,
      argv,
      commandLine: argv.length ? argv.join(" ") : `[${s.comm ?? `pid ${s.pid}`}]`,
    };
  });
  rows.sort((a, b) => b.vmas - a.vmas || a.pid - b.pid);
  const totalVmas = rows.reduce((sum, r) => sum + r.vmas, 0);
  const slab = kernel.slab.ok ? kernel.slab.slab : undefined;
  const engine = {
    headroom: options.headroom,
    round: options.round,
    maxMapCount: kernel.maxMapCount,
    objsize: slab?.objsize,
  };
  const recommendations: RecommendationRow[] = [];
  const top = rows[0];
  if (top)
    recommendations.push(
      recommendationFor(top.vmas, engine, "top-process", { pid: top.pid, app: top.app }),
    );
  if (options.vma !== undefined)
    recommendations.push(recommendationFor(options.vma, engine, "expected-peak"));
  const recorded = options.recordedPeak;
  if (recorded && recorded.vmas > 0)
    recommendations.push(
      recommendationFor(recorded.vmas, engine, "recorded-peak", {
        pid: recorded.pid,
        app: recorded.app,
      }),
    );

  return {
    schemaVersion: SCAN_SCHEMA_VERSION,
    generatedAt: now.toISOString(),
    host: kernel.identity?.host ?? null,
    kernelRelease: kernel.identity?.kernelRelease ?? null,
    bootId: kernel.identity?.bootId ?? null,
    procfs: collected.procfs,
    durationMs: Math.round(collected.durationMs * 1000) / 1000,
    limitScope: "per-process",
    maxMapCount: kernel.maxMapCount ?? null,
    totalVmas,
    processCount: rows.length,
    topProcesses: rows.slice(0, options.top),
    applications: appStatistics(rows),
    kernel: {
      maxMapCount: kernel.maxMapCount ?? null,
      vmaSlab: slab
        ? {
            ...slab,
            activeBytes: slab.activeObjects * slab.objsize,
            totalBytes: slab.totalObjects * slab.objsize,
          }
        : null,
      vmaSlabUnavailable: kernel.slab.ok ? null : kernel.slab.reason,
    },
    settings: {
      headroom: options.headroom,
      round: options.round,
      vma: options.vma ?? null,
      top: options.top,
      recordedPeak: options.recordedPeak ?? null,
    },
    recommendations,
    recommendedLimit: recommendations.length
      ? Math.max(...recommendations.map((r) => r.recommendation.limit))
      : null,
    coverage: collected.coverage,
    asRoot: collected.asRoot,
    anonymisation: anonymizationOf(options.anonymizeUser),
    warnings: [
      ...warnings,
      ...recommendations.map(dosRiskWarning).filter((w) => w !== undefined),
      ...[unreadableWarning(collected.coverage, collected.asRoot)].filter((w) => w !== undefined),
    ],
  };
}
