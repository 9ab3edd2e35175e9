/**
 * Text and JSON renderings of a {@link ScanReport}. Pure: they return strings.
 */

import type { Palette } from "../render/color.ts";
import { dosRiskWarning, renderRecommendation } from "../render/recommendation.ts";
import { renderColumns } from "../render/table.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { wrapLines } from "../render/text_width.ts";
import { formatBytes, formatCount } from "../render/units.ts";
import { type ScanReport, unreadableWarning } from "./report.ts";

/** Application names beyond this pad no column: they push their own row, or are cut on a terminal. */
export const APP_COLUMN_MAX = 24;
const USER_COLUMN_MAX = 12;

function anonymizationNote(report: ScanReport): string {
  switch (report.anonymisation) {
    case "user":
      return "Your user name is shown as <user>; check the rest before you share this report.";
    case "root":
      return "vmaudit ran as root (not through sudo), so no user name was hidden; check the report before you share it.";
    case "none":
      return "Your user name could not be found in /etc/passwd, so nothing was anonymised; check the report before you share it.";
  }
}

/**
 * The human report. Text from other users (argv, comm, names) is escaped
 * (escapeControl). With a terminal `width`, tables and lines fit it; without
 * one nothing is cut.
 *
 * @example
 * renderScanText(report, palette(false), 80);
 */
export function renderScanText(report: ScanReport, p: Palette, width?: number): string {
  const t = escapeControl;
  const out: string[] = [];
  const inPlace = new Set([
    ...report.recommendations.map(dosRiskWarning),
    unreadableWarning(report.coverage, report.asRoot),
  ]);
  for (const w of report.warnings) if (!inPlace.has(w)) out.push(p.yellow(`Warning: ${t(w)}`));
  out.push(
    p.yellow(
      `Note: command lines can contain secrets (tokens, passwords, URLs). ${anonymizationNote(report)}`,
    ),
    "",
  );

  out.push(
    p.bold(
      `Top ${report.topProcesses.length} of ${formatCount(report.processCount, "process", "processes")} by VMA count${report.host === null ? "" : ` on ${t(report.host)}`}`,
    ),
  );
  out.push(
    renderColumns(
      [
        { header: "VMAS", align: "right" },
        { header: "PID", align: "right" },
        { header: "USER", cut: "end", maxWidth: USER_COLUMN_MAX },
        { header: "APPLICATION", cut: "start", maxWidth: APP_COLUMN_MAX },
        { header: "COMMAND", cut: "end" },
      ],
      report.topProcesses.map((r) => [
        String(r.vmas),
        String(r.pid),
        t(r.user),
        t(r.app),
        t(r.commandLine),
      ]),
      { width },
    ),
  );

  out.push(p.bold(`Applications (${report.applications.length})`));
  out.push(
    renderColumns(
      [
        { header: "INSTANCES", align: "right" },
        { header: "MAX", align: "right" },
        { header: "MEAN", align: "right" },
        { header: "MIN", align: "right" },
        { header: "APPLICATION", cut: "start" },
      ],
      report.applications.map((a) => [
        String(a.instances),
        String(a.max),
        String(a.mean),
        String(a.min),
        t(a.name),
      ]),
      { width },
    ),
  );

  out.push(
    `${p.bold("Total VMAs:")} ${report.totalVmas} across ${formatCount(report.processCount, "process", "processes")}`,
    "",
  );

  out.push(p.bold("Kernel"));
  const limit = report.kernel.maxMapCount;
  if (report.kernelRelease !== null) out.push(`  release: ${t(report.kernelRelease)}`);
  out.push(`  vm.max_map_count: ${limit ?? "unknown"}`);
  out.push("  This limit applies to each process on its own; it is not a system-wide total.");
  const slab = report.kernel.vmaSlab;
  out.push(
    slab
      ? `  vm_area_struct slab: ${slab.activeObjects} active / ${slab.totalObjects} total objects of ${slab.objsize} bytes (${formatBytes(slab.activeBytes)} / ${formatBytes(slab.totalBytes)})`
      : `  vm_area_struct slab: not available (${t(report.kernel.vmaSlabUnavailable ?? "")})`,
    "",
  );

  out.push(
    p.bold(
      `Recommendation (headroom x${report.settings.headroom}, rounded to ${report.settings.round})`,
    ),
  );
  if (report.recommendations.length === 0)
    out.push("  No process could be read, so there is no peak to recommend from.");
  for (const row of report.recommendations) out.push(renderRecommendation(row, p));
  out.push("");

  const c = report.coverage;
  out.push(p.bold("Coverage"));
  out.push(
    `  ${formatCount(c.scanned, "process", "processes")} scanned in ${report.durationMs.toFixed(1)} ms`,
  );
  const unreadable = unreadableWarning(c, report.asRoot);
  if (unreadable) out.push(p.yellow(`  ${t(unreadable)}`));
  out.push(`  ${c.vanished} vanished during the scan`);
  out.push(
    `  ${formatCount(c.kernelThreads, "kernel thread", "kernel threads")} skipped (they have no VMAs)`,
  );
  if (c.self > 0) out.push(`  self: ${c.self} left out (vmaudit does not count its own processes)`);
  for (const [code, n] of Object.entries(c.errors))
    out.push(p.yellow(`  ${n} failed with ${t(code)}`));
  const text = `${out.join("\n")}\n`;
  return width === undefined ? text : wrapLines(text, width);
}

/** The JSON document: the report itself, nothing else. */
export function renderScanJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
