/**
 * Plain-text tables for terminal reports. Pure.
 *
 * Cells must already be safe to print (escapeControl in
 * render/terminal_text.ts); the table only measures, pads and cuts them.
 * On a terminal (a `width` is given) a table fits the width: the columns that
 * may be cut (command lines, application names, paths) give up room, the
 * others (pids, counts) never do. Without a width nothing is cut, as `ps`
 * does when its output is not a terminal, so logs keep whole command lines.
 */
import { cellWidth, cutEnd, cutStart } from "./text_width.ts";

export type Align = "left" | "right";

export interface Column {
  header: string;
  /** Default "left". */
  align?: Align;
  /**
   * How a cell is cut to fit a terminal: "end" keeps its start (command
   * lines), "start" keeps its end (application names, paths:
   * `…/dist/vmaudit`). Without it the column is never cut.
   */
  cut?: "end" | "start";
  /**
   * Pad the column to at most this many cells. A longer cell pushes the rest
   * of its own row to the right (or, on a terminal, is cut to this width)
   * instead of widening every row.
   */
  maxWidth?: number;
}

export interface TableOptions {
  /** Before every row; default two spaces. */
  indent?: string;
  /** The terminal's width in cells; undefined (not a terminal) cuts nothing. */
  width?: number | undefined;
}

/** A cuttable column gives up room down to this many cells (or its header's width). */
const MIN_CUT_WIDTH = 8;

/** Visible width of a string, ignoring ANSI colour codes. */
export function visibleWidth(s: string): number {
  return cellWidth(s);
}

function pad(s: string, width: number, align: Align): string {
  const fill = " ".repeat(Math.max(0, width - cellWidth(s)));
  return align === "right" ? fill + s : s + fill;
}

function cut(s: string, width: number, how: "end" | "start"): string {
  return how === "end" ? cutEnd(s, width) : cutStart(s, width);
}

/**
 * Render rows under a header. Each column is as wide as its widest cell (up
 * to its maxWidth); the last column is not padded, so long command lines do
 * not leave trailing spaces.
 *
 * @example
 * renderColumns([{ header: "PID", align: "right" }, { header: "COMMAND", cut: "end" }], [["7", "/usr/bin/java -jar app.jar"]], { width: 20 });
 * // "  PID  COMMAND\n    7  /usr/bin/java -…\n"
 */
export function renderColumns(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  opts: TableOptions = {},
): string {
  const indent = opts.indent ?? "  ";
  const n = columns.length;
  const headerWidths = columns.map((c) => cellWidth(c.header));
  const widths = columns.map((c, i) => {
    const natural = Math.max(headerWidths[i] ?? 0, ...rows.map((r) => cellWidth(r[i] ?? "")));
    return c.maxWidth === undefined
      ? natural
      : Math.max(headerWidths[i] ?? 0, Math.min(natural, c.maxWidth));
  });
  let cells = rows.map((r) => columns.map((_, i) => r[i] ?? ""));
  if (opts.width !== undefined) {
    // Give up room from the last cuttable column first (the command line),
    // then the ones before it, each down to its minimum.
    const total = () => cellWidth(indent) + widths.reduce((a, b) => a + b, 0) + 2 * (n - 1);
    for (let i = n - 1; i >= 0 && total() > opts.width; i--) {
      if (!columns[i]?.cut) continue;
      const min = Math.max(headerWidths[i] ?? 0, MIN_CUT_WIDTH);
      const w = widths[i] ?? 0;
      widths[i] = Math.max(min, w - (total() - opts.width));
    }
    cells = cells.map((r) =>
      r.map((c, i) => {
        const how = columns[i]?.cut;
        const w = widths[i] ?? 0;
        return how && cellWidth(c) > w ? cut(c, w, how) : c;
      }),
    );
  }
  const line = (row: readonly string[]) =>
    indent +
    row
      .map((c, i) => {
        const align = columns[i]?.align ?? "left";
        return i === n - 1 && align === "left" ? c : pad(c, widths[i] ?? 0, align);
      })
      .join("  ");
  return `${[line(columns.map((c) => c.header)), ...cells.map(line)].join("\n")}\n`;
}

/**
 * Render rows under a header, each column as wide as its widest cell; nothing
 * is cut. For tables whose cells are all short.
 *
 * @example
 * renderTable(["A", "B"], [["1", "x"]], ["right", "left"]); // "  A  B\n  1  x\n"
 */
export function renderTable(
  headers: string[],
  rows: string[][],
  align: Align[],
  indent = "  ",
): string {
  return renderColumns(
    headers.map((header, i) => ({ header, align: align[i] ?? "left" })),
    rows,
    { indent },
  );
}

/** Cut a string to at most `max` cells, marking the cut with an ellipsis. */
export function truncate(s: string, max: number): string {
  return cutEnd(s, max);
}
