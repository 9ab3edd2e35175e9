import { describe, expect, test } from "bun:test";
import { type Column, renderColumns, renderTable } from "../../src/render/table.ts";
import { cellWidth } from "../../src/render/text_width.ts";

const COLUMNS: Column[] = [
  { header: "VMAS", align: "right" },
  { header: "PID", align: "right" },
  { header: "APPLICATION", cut: "start", maxWidth: 24 },
  { header: "COMMAND", cut: "end" },
];
const LONG_APP = `/tmp/${"a-rather-long-dir-".repeat(5)}/dist/vmaudit`;
const LONG_COMMAND = `${LONG_APP} scan ${"--flag ".repeat(40)}`.trim();
const ROWS = [
  ["123456", "4194304", LONG_APP, LONG_COMMAND],
  ["7", "1", "/sbin/init", "/sbin/init splash"],
];

function lines(text: string): string[] {
  return text.replace(/\n$/, "").split("\n");
}

describe("renderColumns() without a width (not a terminal)", () => {
  const out = renderColumns(COLUMNS, ROWS);
  test("cuts nothing: the whole command line and application name are there", () => {
    expect(out).toContain(LONG_COMMAND);
    expect(out).toContain(LONG_APP);
  });
  test("pads a column to at most its maxWidth: one long name does not widen every row", () => {
    const init = lines(out)[2] as string;
    expect(init).toBe(`       7        1  ${"/sbin/init".padEnd(24)}  /sbin/init splash`);
  });
  test("a long cell pushes only its own row", () => {
    expect(lines(out)[1]).toBe(`  123456  4194304  ${LONG_APP}  ${LONG_COMMAND}`);
  });
  test("renderTable() is renderColumns() with plain columns", () => {
    expect(renderTable(["A", "B"], [["1", "x"]], ["right", "left"])).toBe("  A  B\n  1  x\n");
  });
});

describe("renderColumns() with a terminal width", () => {
  for (const width of [40, 60, 80, 120, 200]) {
    test(`at ${width} columns no line is wider than the terminal`, () => {
      for (const line of lines(renderColumns(COLUMNS, ROWS, { width })))
        expect(cellWidth(line)).toBeLessThanOrEqual(width);
    });
  }
  const out = lines(renderColumns(COLUMNS, ROWS, { width: 80 }));
  test("pids and counts are never cut", () => {
    expect(out[1]?.startsWith("  123456  4194304  ")).toBe(true);
  });
  test("the application keeps its meaningful end", () => {
    expect(out[1]).toContain(" …/dist/vmaudit ");
  });
  test("the command line keeps its start and ends with an ellipsis", () => {
    expect(out[1]).toMatch(/ \/tmp\/a-rather-long-dir-\S*…$/);
  });
  test("a short row is not cut", () => {
    expect(out[2]).toContain("/sbin/init splash");
  });
  test("the command column gives way before the application column", () => {
    const narrow = lines(renderColumns(COLUMNS, ROWS, { width: 70 }));
    expect(narrow[1]).toContain("…/dist/vmaudit");
  });
  test("a table that fits is the same as without a width", () => {
    const short = [["1", "2", "a", "b"]];
    expect(renderColumns(COLUMNS, short, { width: 80 })).toBe(renderColumns(COLUMNS, short));
  });
  test("wide characters are measured in cells", () => {
    const row = [["1", "2", "漢".repeat(30), "🐍".repeat(60)]];
    for (const line of lines(renderColumns(COLUMNS, row, { width: 80 })))
      expect(cellWidth(line)).toBeLessThanOrEqual(80);
  });
});
