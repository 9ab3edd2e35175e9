/**
 * Plain-text tables for terminal reports. Pure.
 */

export type Align = "left" | "right";

/** Visible width of a string, ignoring ANSI colour codes. */
export function visibleWidth(s: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
  return s.replace(/\x1b\[[0-9;]*m/g, "").length;
}

function pad(s: string, width: number, align: Align): string {
  const fill = " ".repeat(Math.max(0, width - visibleWidth(s)));
  return align === "right" ? fill + s : s + fill;
}

/**
 * Render rows under a header, each column as wide as its widest cell. The last
 * column is not padded, so long command lines do not leave trailing spaces.
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
  const widths = headers.map((h, i) =>
    Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ""))),
  );
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) =>
        i === cells.length - 1 && align[i] !== "right"
          ? c
          : pad(c, widths[i] ?? 0, align[i] ?? "left"),
      )
      .join("  ");
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

/** Cut a string to at most `max` characters, marking the cut with an ellipsis. */
export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}
