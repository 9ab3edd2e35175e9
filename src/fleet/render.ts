/**
 * Text and JSON renderings of a {@link FleetReport}. Pure: they return
 * strings. Host names, application names and file names come from other
 * machines and users: the text shows them through escapeControl; the JSON
 * carries them exactly.
 */
import type { Palette } from "../render/color.ts";
import { dosRiskWarning, renderRecommendation } from "../render/recommendation.ts";
import { renderColumns } from "../render/table.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { wrapLines } from "../render/text_width.ts";
import { formatCount, formatPercent } from "../render/units.ts";
import {
  type FleetRecommendation,
  type FleetReport,
  formatMaxAge,
  type HostRef,
  hostLabel,
} from "./fleet.ts";

/** Names of hosts below the fleet's value listed in the text; the JSON lists them all. */
const BELOW_SHOWN = 20;
const HOST_COLUMN_MAX = 32;
const APP_COLUMN_MAX = 24;

const t = escapeControl;

/** A host for a table cell: its name, or `-` when the report has none. */
function hostCell(host: string | null): string {
  return host === null ? "-" : t(host);
}

/** The title of the fleet's peak row: which process, on which host. */
function peakTitle(row: FleetRecommendation): string | undefined {
  if (row.source === null) return undefined;
  const on = row.host === null ? `on an unnamed host ("${t(row.source)}")` : `on ${t(row.host)}`;
  const app = t(row.app ?? "");
  if (row.basis === "top-process")
    return `For the fleet's highest peak, pid ${row.pid} (${app}) ${on} at ${row.peak} VMAs:`;
  if (row.basis === "expected-peak")
    return `For the fleet's highest peak, the expected peak of ${row.peak} VMAs ${on} (its scan's --vma):`;
  return `For the fleet's highest peak, ${row.peak} VMAs recorded for pid ${row.pid} (${app}) ${on} (its scan's --peaks):`;
}

function refList(refs: readonly (HostRef & { maxMapCount?: number })[]): string {
  const shown = refs
    .slice(0, BELOW_SHOWN)
    .map((r) =>
      r.host === null
        ? `"${t(r.source)}"${r.maxMapCount === undefined ? "" : ` (${r.maxMapCount})`}`
        : `${t(r.host)}${r.maxMapCount === undefined ? "" : ` (${r.maxMapCount})`}`,
    );
  const more = refs.length - shown.length;
  return `${shown.join(", ")}${more > 0 ? `, and ${more} more (--json lists them all)` : ""}`;
}

/**
 * The human report: warnings, the hosts busiest first, the applications
 * across the fleet, and the fleet's recommendation with the hosts below it.
 *
 * @example
 * renderFleetText(report, palette(false));
 */
export function renderFleetText(report: FleetReport, p: Palette, width?: number): string {
  const out: string[] = [];
  const inPlace = new Set(report.recommendations.map(dosRiskWarning));
  for (const w of report.warnings) if (!inPlace.has(w)) out.push(p.yellow(`Warning: ${t(w)}`));
  if (out.length > 0) out.push("");

  const r = report.reports;
  out.push(
    p.bold(
      `Hosts (${report.hosts.length}, from ${formatCount(r.read, "report", "reports")}${r.read === r.used ? "" : `: ${r.skipped.length} skipped, ${r.duplicates.length} older of the same boot`})`,
    ),
  );
  out.push(
    renderColumns(
      [
        { header: "HOST", cut: "end", maxWidth: HOST_COLUMN_MAX },
        { header: "LIMIT", align: "right" },
        { header: "VMAS", align: "right" },
        { header: "PID", align: "right" },
        { header: "APPLICATION", cut: "start", maxWidth: APP_COLUMN_MAX },
        { header: "USED", align: "right" },
        { header: "RECOMMENDED", align: "right" },
        { header: "NOTE" },
        { header: "REPORT", cut: "start" },
      ],
      report.hosts.map((h) => [
        hostCell(h.host),
        h.maxMapCount === null ? "?" : String(h.maxMapCount),
        h.busiest ? String(h.busiest.vmas) : "-",
        h.busiest ? String(h.busiest.pid) : "-",
        h.busiest ? t(h.busiest.app) : "-",
        h.usagePercent === null ? "?" : formatPercent(h.usagePercent),
        h.recommendation ? String(h.recommendation.recommendation.limit) : "-",
        [h.belowFleet ? "below fleet" : "", h.stale ? "stale" : ""].filter(Boolean).join(", "),
        t(h.source),
      ]),
      { width },
    ),
  );

  out.push(p.bold(`Applications across the fleet (${report.applications.length})`));
  out.push(
    renderColumns(
      [
        { header: "HOSTS", align: "right" },
        { header: "INSTANCES", align: "right" },
        { header: "MAX", align: "right" },
        { header: "MEAN", align: "right" },
        { header: "MAX ON", cut: "end", maxWidth: HOST_COLUMN_MAX },
        { header: "APPLICATION", cut: "start" },
      ],
      report.applications.map((a) => [
        String(a.hosts),
        String(a.instances),
        String(a.max),
        String(a.mean),
        a.maxHost === null ? `"${t(a.maxSource)}"` : t(a.maxHost),
        t(a.name),
      ]),
      { width },
    ),
  );

  out.push(
    p.bold(
      `Fleet recommendation (headroom x${report.settings.headroom}, rounded to ${report.settings.round})`,
    ),
  );
  if (report.recommendations.length === 0)
    out.push("  No report has a process with VMAs, so there is no peak to recommend from.");
  for (const row of report.recommendations) out.push(renderRecommendation(row, p, peakTitle(row)));
  const low = report.lowestLimit;
  if (low && report.recommendations.length > 0)
    out.push(
      `  ("current" is the lowest vm.max_map_count in the fleet, on ${t(hostLabel(low))}: any process of the class may run there)`,
    );
  const limit = report.recommendedLimit;
  if (limit !== null) {
    const known = report.hosts.length - report.unknownLimit.length;
    out.push(
      report.below.length > 0
        ? `  Below ${limit} today: ${report.below.length} of ${formatCount(known, "host", "hosts")}: ${refList(report.below)}`
        : `  Every host is at ${limit} or above today${known < report.hosts.length ? ` (of the ${known} whose limit is known)` : ""}.`,
    );
    if (report.unknownLimit.length > 0)
      out.push(`  Limit unknown: ${refList(report.unknownLimit)}`);
  }
  out.push(
    `  Reports older than ${formatMaxAge(report.settings.maxAgeSeconds)} are flagged stale (--max-age): ${r.stale.length} of ${r.used}.`,
  );
  const text = `${out.join("\n")}\n`;
  return width === undefined ? text : wrapLines(text, width);
}

/** The JSON document: the report itself, nothing else. */
export function renderFleetJson(report: FleetReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
