/**
 * The fleet report: many hosts' scan reports to one view and one value for
 * vm.max_map_count. Pure: the reports, the settings and the time come in.
 *
 * The value is the scan's own engine (core/recommend.ts) applied to the
 * highest peak any host reported, so a fleet recommendation and a scan of
 * the busiest host agree. One call sizes one fleet: for two classes of
 * hosts, call it twice with each class's reports.
 */
import { type RecommendationRow, recommendationFor } from "../core/recommend.ts";
import { dosRiskWarning } from "../render/recommendation.ts";
import { formatCount } from "../render/units.ts";
import type { HostReport, ReportPeak } from "./host_report.ts";

export const FLEET_KIND = "vmaudit-fleet";
export const FLEET_SCHEMA_VERSION = 1;

export interface FleetSettings {
  headroom: number;
  round: number;
  /** Also recommend for this expected peak (`--vma`). */
  vma: number | undefined;
  /** Reports older than this are flagged stale. */
  maxAgeSeconds: number;
}

/** A report that could not be used, and why. */
export interface SkippedReport {
  source: string;
  reason: string;
}

/** A second report of the same boot of a host: the older one is left out. */
export interface DuplicateReport {
  /** The report left out. */
  source: string;
  /** The newer report of the same boot, which is used. */
  usedSource: string;
  host: string | null;
  bootId: string | null;
}

export interface FleetHost {
  host: string | null;
  kernelRelease: string | null;
  bootId: string | null;
  source: string;
  generatedAt: string;
  /** Seconds between the scan and the fleet report (negative when the scan's clock is ahead). */
  ageSeconds: number;
  /** Older than --max-age. */
  stale: boolean;
  maxMapCount: number | null;
  busiest: HostReport["busiest"];
  /** The busiest process's VMAs as a percent of the host's limit; null when either is unknown. */
  usagePercent: number | null;
  /** The highest peak the report holds (its busiest process, or its --vma or --peaks peak if higher). */
  peak: ReportPeak | null;
  /** The engine, with the fleet's settings, on this host's peak and under its own limit. */
  recommendation: RecommendationRow | null;
  /** Whether the host's limit is below the fleet's recommended limit; null when either is unknown. */
  belowFleet: boolean | null;
}

export interface FleetApp {
  name: string;
  kind: string;
  /** Hosts that run at least one process of it. */
  hosts: number;
  instances: number;
  /** The most VMAs of any one process of it, on any host. */
  max: number;
  /** Where that maximum is. */
  maxHost: string | null;
  maxSource: string;
  /** VMAs per process over every instance on every host, rounded. */
  mean: number;
}

/** A recommendation row of the fleet: where its peak comes from, too. */
export interface FleetRecommendation extends RecommendationRow {
  /** The host of the peak; null for --vma. */
  host: string | null;
  source: string | null;
}

export interface HostRef {
  host: string | null;
  source: string;
}

export interface FleetReport {
  kind: typeof FLEET_KIND;
  schemaVersion: typeof FLEET_SCHEMA_VERSION;
  generatedAt: string;
  settings: { headroom: number; round: number; vma: number | null; maxAgeSeconds: number };
  reports: {
    /** Every report given, used or not. */
    read: number;
    used: number;
    skipped: SkippedReport[];
    duplicates: DuplicateReport[];
    /** Sources of the stale reports (they are used). */
    stale: string[];
  };
  /** Busiest first (usage percent, then host name). */
  hosts: FleetHost[];
  /** By max, then name. */
  applications: FleetApp[];
  /**
   * The lowest limit in the fleet: the "current" of the fleet's
   * recommendation rows, since any process of the class may run on it.
   */
  lowestLimit: (HostRef & { maxMapCount: number }) | null;
  /** The fleet's highest peak, then --vma. */
  recommendations: FleetRecommendation[];
  /** The highest recommended limit, or null when no report has a peak. */
  recommendedLimit: number | null;
  /** Hosts whose limit is below recommendedLimit today, lowest first. */
  below: (HostRef & { maxMapCount: number })[];
  /** Hosts whose scan could not read the limit. */
  unknownLimit: HostRef[];
  warnings: string[];
}

/** A duration as --max-age takes it: `1d`, `12h`, `90m`, `45s`. */
export function formatMaxAge(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/**
 * An age in one rounded-down unit, for messages.
 *
 * @example
 * formatAge(200_000); // "2 days"
 */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 120) return formatCount(s, "second", "seconds");
  if (s < 7_200) return formatCount(Math.floor(s / 60), "minute", "minutes");
  if (s < 172_800) return formatCount(Math.floor(s / 3_600), "hour", "hours");
  return formatCount(Math.floor(s / 86_400), "day", "days");
}

/** A host as messages name it: its name and its report, or the report alone. */
export function hostLabel(h: { host: string | null; source: string }): string {
  return h.host === null ? `"${h.source}" (host unknown)` : `${h.host} ("${h.source}")`;
}

/**
 * Which reports are of the same boot of the same host: the boot id, which
 * the kernel draws anew at every boot; without one, the host name; without
 * either, the report is its own.
 */
function identityOf(r: HostReport): string {
  if (r.bootId !== null) return `boot\0${r.bootId}`;
  if (r.host !== null) return `host\0${r.host}`;
  return `source\0${r.source}`;
}

/** Keep the newest report of each boot (the first read on a tie). */
function dropDuplicates(reports: readonly HostReport[]): {
  kept: HostReport[];
  duplicates: DuplicateReport[];
} {
  const newest = new Map<string, HostReport>();
  for (const r of reports) {
    const key = identityOf(r);
    const have = newest.get(key);
    if (!have || r.generatedMs > have.generatedMs) newest.set(key, r);
  }
  const kept: HostReport[] = [];
  const duplicates: DuplicateReport[] = [];
  for (const r of reports) {
    const used = newest.get(identityOf(r)) as HostReport;
    if (used === r) kept.push(r);
    else
      duplicates.push({
        source: r.source,
        usedSource: used.source,
        host: r.host,
        bootId: r.bootId,
      });
  }
  return { kept, duplicates };
}

/** The highest peak a report holds; its busiest process when it has no recommendation rows. */
function peakOf(r: HostReport): ReportPeak | null {
  let best: ReportPeak | null = null;
  for (const p of r.peaks) if (!best || p.peak > best.peak) best = p;
  const b = r.busiest;
  if (b && b.vmas >= 1 && (!best || b.vmas > best.peak))
    best = { basis: "top-process", pid: b.pid, app: b.app, peak: b.vmas };
  return best;
}

function sourceOf(p: ReportPeak): { pid: number; app: string } | undefined {
  return p.pid !== null && p.app !== null ? { pid: p.pid, app: p.app } : undefined;
}

const byName = (a: string | null, b: string | null): number =>
  a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1;

function fleetApplications(reports: readonly HostReport[]): FleetApp[] {
  const apps = new Map<string, FleetApp & { total: number }>();
  for (const r of reports) {
    for (const a of r.applications) {
      const s = apps.get(a.name);
      if (!s) {
        apps.set(a.name, {
          name: a.name,
          kind: a.kind,
          hosts: 1,
          instances: a.instances,
          max: a.max,
          maxHost: r.host,
          maxSource: r.source,
          mean: 0,
          total: a.total,
        });
        continue;
      }
      // A report lists each application once, so each entry is one more host.
      s.hosts++;
      s.instances += a.instances;
      s.total += a.total;
      if (a.max > s.max) {
        s.max = a.max;
        s.maxHost = r.host;
        s.maxSource = r.source;
      }
    }
  }
  return [...apps.values()]
    .map(({ total, ...s }) => ({ ...s, mean: Math.round(total / s.instances) }))
    .sort((a, b) => b.max - a.max || byName(a.name, b.name));
}

/**
 * Build the fleet report from the reports that could be read (in the order
 * given) and the ones that could not.
 *
 * @example
 * buildFleetReport([web1, web2], [], { headroom: 1.5, round: 10000, vma: undefined, maxAgeSeconds: 86400 }, new Date())
 *   .recommendedLimit; // 140000 when the busiest process of web-2 has 90000 VMAs
 */
export function buildFleetReport(
  reports: readonly HostReport[],
  skipped: readonly SkippedReport[],
  settings: FleetSettings,
  now: Date,
): FleetReport {
  const { kept, duplicates } = dropDuplicates(reports);
  const engine = { headroom: settings.headroom, round: settings.round };

  const lowest = kept.reduce<HostReport | undefined>(
    (low, r) =>
      r.maxMapCount !== null && (low === undefined || r.maxMapCount < (low.maxMapCount as number))
        ? r
        : low,
    undefined,
  );
  const lowestLimit =
    lowest === undefined
      ? null
      : { host: lowest.host, source: lowest.source, maxMapCount: lowest.maxMapCount as number };

  let top: { report: HostReport; peak: ReportPeak } | undefined;
  for (const report of kept) {
    const peak = peakOf(report);
    if (peak && (!top || peak.peak > top.peak.peak)) top = { report, peak };
  }
  const fleetEngine = { ...engine, maxMapCount: lowestLimit?.maxMapCount };
  const recommendations: FleetRecommendation[] = [];
  if (top)
    recommendations.push({
      ...recommendationFor(
        top.peak.peak,
        { ...fleetEngine, objsize: top.report.objsize },
        top.peak.basis,
        sourceOf(top.peak),
      ),
      host: top.report.host,
      source: top.report.source,
    });
  if (settings.vma !== undefined)
    recommendations.push({
      ...recommendationFor(
        settings.vma,
        { ...fleetEngine, objsize: top?.report.objsize },
        "expected-peak",
      ),
      host: null,
      source: null,
    });
  const recommendedLimit = recommendations.length
    ? Math.max(...recommendations.map((r) => r.recommendation.limit))
    : null;

  const nowMs = now.getTime();
  const hosts: FleetHost[] = kept.map((r) => {
    const peak = peakOf(r);
    const ageSeconds = Math.round((nowMs - r.generatedMs) / 1000);
    return {
      host: r.host,
      kernelRelease: r.kernelRelease,
      bootId: r.bootId,
      source: r.source,
      generatedAt: r.generatedAt,
      ageSeconds,
      stale: ageSeconds > settings.maxAgeSeconds,
      maxMapCount: r.maxMapCount,
      busiest: r.busiest,
      usagePercent:
        r.busiest && r.maxMapCount
          ? Math.round((r.busiest.vmas / r.maxMapCount) * 1e5) / 1e3
          : null,
      peak,
      recommendation: peak
        ? recommendationFor(
            peak.peak,
            { ...engine, maxMapCount: r.maxMapCount ?? undefined, objsize: r.objsize },
            peak.basis,
            sourceOf(peak),
          )
        : null,
      belowFleet:
        recommendedLimit === null || r.maxMapCount === null
          ? null
          : r.maxMapCount < recommendedLimit,
    };
  });
  hosts.sort(
    (a, b) =>
      (b.usagePercent ?? -1) - (a.usagePercent ?? -1) ||
      byName(a.host, b.host) ||
      byName(a.source, b.source),
  );

  const below = hosts
    .filter((h) => h.belowFleet === true)
    .map((h) => ({ host: h.host, source: h.source, maxMapCount: h.maxMapCount as number }))
    .sort((a, b) => a.maxMapCount - b.maxMapCount || byName(a.host, b.host));
  const unknownLimit = hosts
    .filter((h) => h.maxMapCount === null)
    .map((h) => ({ host: h.host, source: h.source }));
  const stale = hosts.filter((h) => h.stale);

  const warnings: string[] = [];
  for (const s of skipped) warnings.push(`Skipped "${s.source}": ${s.reason}`);
  for (const d of duplicates)
    warnings.push(
      d.source === d.usedSource
        ? `"${d.source}" is given more than once: it is counted once`
        : `"${d.source}" and "${d.usedSource}" come from the same boot of ${d.host ?? "one host"}${d.bootId === null ? "" : ` (boot id ${d.bootId})`}: using the newer, "${d.usedSource}"`,
    );
  for (const h of stale)
    warnings.push(
      `${hostLabel(h)} is stale: scanned at ${h.generatedAt}, ${formatAge(h.ageSeconds)} ago, more than --max-age ${formatMaxAge(settings.maxAgeSeconds)}`,
    );
  const named = new Map<string, number>();
  for (const h of hosts) if (h.host !== null) named.set(h.host, (named.get(h.host) ?? 0) + 1);
  for (const [name, n] of named)
    if (n > 1)
      warnings.push(
        `${n} reports name the host "${name}" with different boot ids (a reboot between the scans, or machines that share a name): each is counted as a host`,
      );
  if (unknownLimit.length > 0)
    warnings.push(
      `The limit of ${formatCount(unknownLimit.length, "host", "hosts")} is unknown (the scan could not read vm.max_map_count): ${unknownLimit.map(hostLabel).join(", ")}`,
    );
  if (!top)
    warnings.push("No report has a process with VMAs, so there is no peak to recommend from");
  for (const r of recommendations) {
    const w = dosRiskWarning(r);
    if (w) warnings.push(w);
  }

  return {
    kind: FLEET_KIND,
    schemaVersion: FLEET_SCHEMA_VERSION,
    generatedAt: now.toISOString(),
    settings: {
      headroom: settings.headroom,
      round: settings.round,
      vma: settings.vma ?? null,
      maxAgeSeconds: settings.maxAgeSeconds,
    },
    reports: {
      read: reports.length + skipped.length,
      used: kept.length,
      skipped: [...skipped],
      duplicates,
      stale: stale.map((h) => h.source),
    },
    hosts,
    applications: fleetApplications(kept),
    lowestLimit,
    recommendations,
    recommendedLimit,
    below,
    unknownLimit,
    warnings,
  };
}
