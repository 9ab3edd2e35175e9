/**
 * `vmaudit stress` output: the text report, the JSON document and the
 * progress bar. Pure.
 */
import { ENOMEM } from "../../stress/contract.ts";
import type { Palette } from "../render/color.ts";
import { renderTable } from "../render/table.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { formatBytes, formatCount } from "../render/units.ts";
import type { StressReport } from "./report.ts";

const CHART_WIDTH = 30;

/** Whole numbers without thousands separators, as in every vmaudit report (render/units.ts). */
function int(n: number): string {
  return String(Math.round(n));
}

/**
 * One progress-bar line, to be written after a carriage return.
 *
 * @example
 * renderProgress(5000, 20000, 20); // "mapping [#####               ]  25%  5000/20000 VMAs"
 */
export function renderProgress(created: number, target: number, width = 30): string {
  if (created > target)
    return `limit check: ${int(created)} VMAs, mapping until the kernel refuses`;
  const frac = Math.min(1, created / target);
  const filled = Math.round(frac * width);
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `mapping [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${pct}  ${int(created)}/${int(target)} VMAs`;
}

/**
 * The text report.
 *
 * @example
 * renderStressText(report, palette(false)).includes("limit honored"); // true
 */
export function renderStressText(r: StressReport, p: Palette): string {
  const out: string[] = [];
  out.push(
    p.bold(
      `vmaudit stress: ${int(r.target)} VMAs in one worker (pid ${r.worker.pid}, ${r.worker.baseline} VMAs of its own)`,
    ),
  );
  if (r.journalRecovery) {
    out.push(
      `Restored vm.max_map_count to ${r.journalRecovery.restoredLimit} first, from the journal of an unfinished run (pid ${r.journalRecovery.pid})`,
    );
  }
  const restore = r.limit.restore;
  if (r.limit.requested === null) {
    out.push(`vm.max_map_count: ${r.limit.during} (not changed)`);
  } else if (restore) {
    const back = restore.ok
      ? p.green(`restored to ${restore.value} (read back ${restore.readBack})`)
      : p.red(`NOT restored to ${restore.value}: ${escapeControl(restore.error ?? "")}`);
    out.push(`vm.max_map_count: ${r.limit.during} during the run, ${back}`);
  }

  out.push(
    "",
    `Scan time of the worker's maps (median of ${r.settings.repeat}, scan's own reader):`,
  );
  const maxMs = Math.max(...r.checkpoints.map((c) => c.scan.medianMs), 1e-9);
  const rows = r.checkpoints.map((c) => [
    int(c.vmas),
    `${c.percent.toFixed(0)}%`,
    c.scan.medianMs.toFixed(2),
    c.scan.usPerVma.toFixed(3),
    c.exact ? p.green("yes") : p.red(`NO (expected ${c.expectedVmas})`),
    "█".repeat(Math.max(1, Math.round((c.scan.medianMs / maxMs) * CHART_WIDTH))),
  ]);
  out.push(
    renderTable(["VMAs", "target", "median ms", "µs/VMA", "exact", "scan time"], rows, [
      "right",
      "right",
      "right",
      "right",
      "left",
      "left",
    ]).trimEnd(),
  );

  out.push("");
  const c = r.creation;
  out.push(
    `Creation: ${int(c.created)} VMAs in ${c.mappingMs.toFixed(1)} ms (${int(c.vmasPerSecond)} VMAs/s)`,
  );
  if (r.slab) {
    out.push(
      `vm_area_struct slab: ${r.slab.objectsAdded >= 0 ? "+" : ""}${int(r.slab.objectsAdded)} objects, ${formatBytes(r.slab.bytesAdded)} (${r.slab.bytesPerVma.toFixed(1)} bytes per VMA; objsize ${r.slab.objsize})`,
    );
  } else if (r.slabUnavailable) {
    out.push(`vm_area_struct slab: not measured (${r.slabUnavailable})`);
  }
  if (r.worker.rssBytes !== null) {
    out.push(
      `Worker RSS: ${formatBytes(r.worker.rssBytes)} while holding ${int(r.worker.rssAtVmasAdded)} extra VMAs (pages are never touched)`,
    );
  }
  if (r.fullScan) {
    const f = r.fullScan;
    out.push(
      `Full scan while the worker held ${int(f.workerVmas)} VMAs: ${f.wallMs.toFixed(1)} ms; the other ${formatCount(f.processCount, "process", "processes")} hold ${formatCount(f.totalVmas, "VMA", "VMAs")} (vmaudit and its worker are left out of the counts)`,
    );
  }

  out.push("");
  const lc = r.limitCheck;
  if (!lc) {
    out.push("Limit check: skipped (--no-limit-check)");
  } else {
    const how = lc.errno === ENOMEM ? "ENOMEM" : `errno ${lc.errno}`;
    out.push(
      `Limit check: mmap refused at ${int(lc.observedPeak)} VMAs (${how}); the kernel's rule says limit + 1 = ${int(lc.expectedPeak)}`,
    );
    out.push(
      `  created ${int(lc.observedCreated)} (expected ${int(lc.expectedCreated)} over a baseline of ${r.worker.baseline}); gave back ${lc.released} at once; count afterwards ${int(lc.afterReleaseVmas)} (expected ${int(lc.afterReleaseExpected)})`,
    );
    out.push(
      r.honored
        ? p.green(`limit honored: expected ${lc.expectedPeak}, observed ${lc.observedPeak}`)
        : p.red(`limit NOT honored: expected ${lc.expectedPeak}, observed ${lc.observedPeak}`),
    );
  }
  if (!r.targetReached) {
    out.push(
      p.yellow(
        `Target not reached: the kernel refused at ${int(lc?.observedPeak ?? 0)} VMAs (${int(lc?.observedCreated ?? 0)} of ${int(r.target)} created) under vm.max_map_count ${r.limit.during}`,
      ),
    );
  }
  if (r.suggestion) {
    out.push(
      `To let one process reach ${int(r.suggestion.peak)} VMAs, run: ${p.bold(r.suggestion.command)}`,
    );
  }
  if (!r.allExact) out.push(p.red("The worker's VMA count was NOT exact at every checkpoint"));
  for (const w of r.warnings) out.push(p.yellow(`warning: ${escapeControl(w)}`));
  return `${out.join("\n")}\n`;
}

/** The JSON report: one document, nothing else on stdout. */
export function renderStressJson(r: StressReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
