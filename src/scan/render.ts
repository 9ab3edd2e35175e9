/**
 * Text and JSON renderings of a {@link ScanReport}. Pure: they return strings.
 */
import type { Palette } from "../color.ts";
import type { Headroom } from "../core/recommend.ts";
import { renderTable, truncate } from "../render/table.ts";
import { formatBytes, formatPercent } from "../render/units.ts";
import type { RecommendationRow, ScanReport } from "./report.ts";

const COMMAND_WIDTH = 100;

/**
 * A free-percent coloured by level: green at 20% or more, yellow at 5% or
 * more, red below.
 */
export function colourPercent(h: Headroom, p: Palette): string {
  const text = formatPercent(h.freePercent);
  return h.level === "ok" ? p.green(text) : h.level === "low" ? p.yellow(text) : p.red(text);
}

function headroomLine(label: string, h: Headroom, p: Palette): string {
  return `    ${label.padEnd(12)} ${String(h.limit).padStart(10)}   free ${String(h.free).padStart(10)} (${colourPercent(h, p)})`;
}

/** The recommendation block for one row, shared by every report that recommends. */
export function renderRecommendation(row: RecommendationRow, p: Palette): string {
  const title =
    row.basis === "top-process"
      ? `For the top process (pid ${row.pid}, ${row.app}) at ${row.peak} VMAs:`
      : row.basis === "recorded-peak"
        ? `For the recorded peak of ${row.peak} VMAs (pid ${row.pid}, ${row.app}; --peaks):`
        : `For the expected peak of ${row.peak} VMAs (--vma):`;
  const lines = [`  ${title}`];
  if (row.current) lines.push(headroomLine("current", row.current, p));
  else lines.push("    current      unknown (vm.max_map_count could not be read)");
  lines.push(headroomLine("recommended", row.recommended, p));
  const r = row.recommendation;
  const why =
    r.reason === "kernel-default"
      ? `${r.peak} x ${r.headroom} = ${r.raw} fits under the kernel default`
      : r.reason === "reserved-range"
        ? `${r.raw} rounds into 65531..65535, the ELF core-dump margin, so 65536`
        : r.reason === "int-max"
          ? `${r.raw} is above the largest value the sysctl takes, so ${r.limit}`
          : `${r.peak} x ${r.headroom} = ${r.raw}, rounded up to a multiple of ${r.round}`;
  lines.push(`    ${p.dim(`(${why})`)}`);
  if (row.dosRisk) {
    lines.push(
      p.red(
        `    Warning: above 1048576 this limit lets one process pin up to ${formatBytes(row.dosRisk.worstCaseBytes)} of unswappable kernel memory (${row.recommendation.limit} x ${row.dosRisk.objsize} bytes${row.dosRisk.objsizeSource === "assumed" ? ", object size assumed" : ""}), which the OOM killer does not see: a denial-of-service risk.`,
      ),
    );
  }
  return lines.join("\n");
}

/**
 * The human report.
 *
 * @example
 * renderScanText(report, palette(false));
 */
export function renderScanText(report: ScanReport, p: Palette): string {
  const out: string[] = [];
  for (const w of report.warnings) out.push(p.yellow(`Warning: ${w}`));
  out.push(
    p.yellow(
      "Note: command lines can contain secrets (tokens, passwords, URLs). Your user name is shown as <user>; check the rest before you share this report.",
    ),
    "",
  );

  out.push(
    p.bold(`Top ${report.topProcesses.length} of ${report.processCount} processes by VMA count`),
  );
  out.push(
    renderTable(
      ["VMAS", "PID", "USER", "APPLICATION", "COMMAND"],
      report.topProcesses.map((r) => [
        String(r.vmas),
        String(r.pid),
        r.user,
        truncate(r.app, 40),
        truncate(r.commandLine, COMMAND_WIDTH),
      ]),
      ["right", "right", "left", "left", "left"],
    ),
  );

  out.push(p.bold(`Applications (${report.applications.length})`));
  out.push(
    renderTable(
      ["APPLICATION", "INSTANCES", "MAX", "MEAN", "MIN"],
      report.applications.map((a) => [
        truncate(a.name, 60),
        String(a.instances),
        String(a.max),
        String(a.mean),
        String(a.min),
      ]),
      ["left", "right", "right", "right", "right"],
    ),
  );

  out.push(
    `${p.bold("Total VMAs:")} ${report.totalVmas} across ${report.processCount} processes`,
    "",
  );

  out.push(p.bold("Kernel"));
  const limit = report.kernel.maxMapCount;
  out.push(`  vm.max_map_count: ${limit ?? "unknown"}`);
  out.push("  This limit applies to each process on its own; it is not a system-wide total.");
  const slab = report.kernel.vmaSlab;
  out.push(
    slab
      ? `  vm_area_struct slab: ${slab.activeObjects} active / ${slab.totalObjects} total objects of ${slab.objsize} bytes (${formatBytes(slab.activeBytes)} / ${formatBytes(slab.totalBytes)})`
      : `  vm_area_struct slab: not available (${report.kernel.vmaSlabUnavailable})`,
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
  out.push(`  ${c.scanned} processes scanned in ${report.durationMs.toFixed(1)} ms`);
  if (c.unreadable > 0) {
    out.push(
      p.yellow(
        report.asRoot
          ? `  ${c.unreadable} could not be read even as root (permission denied: a protected process, such as a sandbox's init)`
          : `  ${c.unreadable} could not be read (permission denied): run as root (sudo vmaudit scan) to include them`,
      ),
    );
  }
  out.push(`  ${c.vanished} vanished during the scan`);
  out.push(`  ${c.kernelThreads} kernel threads skipped (they have no VMAs)`);
  for (const [code, n] of Object.entries(c.errors))
    out.push(p.yellow(`  ${n} failed with ${code}`));
  return `${out.join("\n")}\n`;
}

/** The JSON document: the report itself, nothing else. */
export function renderScanJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
