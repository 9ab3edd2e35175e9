/**
 * Text and JSON renderings of an {@link InspectReport}. Pure.
 */
import type { Palette } from "../color.ts";
import { renderTable, truncate } from "../render/table.ts";
import { formatBytes, formatPercent } from "../render/units.ts";
import { colourPercent } from "../scan/render.ts";
import type { InspectReport } from "./report.ts";

/**
 * The human report.
 *
 * @example
 * renderInspectText(report, palette(false));
 */
export function renderInspectText(r: InspectReport, p: Palette): string {
  const out: string[] = [];
  out.push(p.bold(`pid ${r.pid}: ${r.app}`));
  out.push(`  ${truncate(r.commandLine, 120)}`);
  if (r.limit) {
    out.push(
      `  ${r.vmas} VMAs of vm.max_map_count ${r.limit.limit}: ${r.limit.free} free (${colourPercent(r.limit, p)})`,
    );
  } else {
    out.push(`  ${r.vmas} VMAs (vm.max_map_count could not be read)`);
  }
  if (r.lines !== r.vmas)
    out.push(p.dim("  ([vsyscall] is listed in maps but is not a VMA of the process)"));
  out.push("");
  out.push(p.bold("VMAs by group"));
  out.push(
    renderTable(
      ["GROUP", "VMAS", "SHARE", "VIRTUAL"],
      r.groups
        .filter((g) => g.count > 0)
        .map((g) => [
          g.label,
          String(g.count),
          formatPercent(g.sharePercent),
          formatBytes(g.bytes),
        ]),
      ["left", "right", "right", "right"],
    ),
  );
  if (r.hint) out.push(`${p.bold("Biggest group:")} ${r.hint}.`, "");
  if (r.topFiles.length) {
    out.push(p.bold(`Top files (${r.topFiles.length} of ${r.distinctFiles})`));
    out.push(
      renderTable(
        ["VMAS", "VIRTUAL", "PATH"],
        r.topFiles.map((f) => [String(f.count), formatBytes(f.bytes), f.path]),
        ["right", "right", "left"],
      ),
    );
  }
  return `${out.join("\n")}\n`;
}

/** The JSON document. */
export function renderInspectJson(r: InspectReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
