/**
 * The recommendation block every report that recommends prints (scan, watch,
 * apply), and the DoS warning it carries. Pure: returns strings.
 */
import { DOS_RISK_THRESHOLD, type Headroom, type RecommendationRow } from "../core/recommend.ts";
import type { Palette } from "./color.ts";
import { escapeControl } from "./terminal_text.ts";
import { formatBytes, formatPercent } from "./units.ts";

/**
 * The warning for a recommendation above 1048576, or undefined.
 *
 * @example
 * dosRiskWarning(row); // "The recommended 2000000 is above 1048576: ..."
 */
export function dosRiskWarning(row: RecommendationRow): string | undefined {
  const d = row.dosRisk;
  if (!d) return undefined;
  return `The recommended ${row.recommendation.limit} is above ${DOS_RISK_THRESHOLD}: it lets one process pin up to ${formatBytes(d.worstCaseBytes)} of unswappable kernel memory (${row.recommendation.limit} x ${d.objsize} bytes${d.objsizeSource === "assumed" ? ", object size assumed" : ""}), which the OOM killer does not see: a denial-of-service risk`;
}

/**
 * A free-percent coloured by level: green at 20% or more, yellow at 5% or
 * more, red below.
 */
export function colorPercent(h: Headroom, p: Palette): string {
  const text = formatPercent(h.freePercent);
  return h.level === "ok" ? p.green(text) : h.level === "low" ? p.yellow(text) : p.red(text);
}

function headroomLine(label: string, h: Headroom, p: Palette): string {
  return `    ${label.padEnd(12)} ${String(h.limit).padStart(10)}   free ${String(h.free).padStart(10)} (${colorPercent(h, p)})`;
}

/**
 * The recommendation block for one row, shared by every report that
 * recommends. `title` replaces the first line (already escaped), for a
 * report whose peak needs more words (the fleet names the host).
 */
export function renderRecommendation(row: RecommendationRow, p: Palette, title?: string): string {
  const app = escapeControl(row.app ?? "");
  const heading =
    title ??
    (row.basis === "top-process"
      ? `For the top process (pid ${row.pid}, ${app}) at ${row.peak} VMAs:`
      : row.basis === "recorded-peak"
        ? `For the recorded peak of ${row.peak} VMAs (pid ${row.pid}, ${app}; --peaks):`
        : row.basis === "watched-peak"
          ? `For the peak of ${row.peak} VMAs seen while watching (pid ${row.pid}, ${app}):`
          : `For the expected peak of ${row.peak} VMAs (--vma):`);
  const lines = [`  ${heading}`];
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
  const dos = dosRiskWarning(row);
  if (dos) lines.push(p.red(`    Warning: ${dos}`));
  return lines.join("\n");
}
