/**
 * Text and JSON renderings of an {@link InspectReport}. Pure.
 */
import type { Palette } from "../render/color.ts";
import { colorPercent } from "../render/recommendation.ts";
import { renderColumns, renderTable } from "../render/table.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { cutEnd, wrapLines } from "../render/text_width.ts";
import { formatBytes, formatPercent } from "../render/units.ts";
import type { InspectReport } from "./report.ts";

/**
 * The human report. The command line and file names are escaped
 * (escapeControl); with a terminal `width`, the command line is cut and the
 * file table fits it, without one nothing is cut.
 *
 * @example
 * renderInspectText(report, palette(false), 80);
 */
export function renderInspectText(r: InspectReport, p: Palette, width?: number): string {
  const out: string[] = [];
  out.push(p.bold(`pid ${r.pid}: ${escapeControl(r.app)}`));
  const command = escapeControl(r.commandLine);
  out.push(`  ${width === undefined ? command : cutEnd(command, width - 2)}`);
  if (r.limit) {
    out.push(
      `  ${r.vmas} VMAs of vm.max_map_count ${r.limit.limit}: ${r.limit.free} free (${colorPercent(r.limit, p)})`,
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
      renderColumns(
        [
          { header: "VMAS", align: "right" },
          { header: "VIRTUAL", align: "right" },
          { header: "PATH", cut: "start" },
        ],
        r.topFiles.map((f) => [String(f.count), formatBytes(f.bytes), escapeControl(f.path)]),
        { width },
      ),
    );
  }
  const text = `${out.join("\n")}\n`;
  return width === undefined ? text : wrapLines(text, width);
}

/** The JSON document. */
export function renderInspectJson(r: InspectReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
