/**
 * Tables on a terminal and in a pipe (issue 9, item 13), through the
 * compiled binary. On a real pseudo-terminal of 80 columns no line may be
 * wider than 80 cells (so no row wraps), the command line is cut and the
 * application keeps its meaningful end; piped, a 300-character command line
 * stays whole.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cellWidth } from "../../src/render/text_width.ts";
import { runBinary } from "../helpers/env.ts";
import {
  type LayoutWorker,
  layoutArgs,
  removeLayoutBuild,
  spawnLayoutWorker,
} from "../helpers/layout_worker.ts";
import { runInPty } from "../helpers/pty.ts";

const LONG_DIR = `/tmp/${"a-rather-long-dir-".repeat(15)}`;
const ARGV0 = `${LONG_DIR}/dist/vmaudit`;
const LAYOUT = { anon: 40, protNone: 0, fileMaps: 0, shared: 0, threads: 0 };
const FILE = "/dev/null";
const ARGS = layoutArgs(LAYOUT, FILE);
const COMMAND_LINE = [ARGV0, ...ARGS].join(" ");

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are stripped to measure
const CSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * What starts a new line on the screen besides a newline: a live frame's move
 * to the top-left corner (ESC [ H), and leaving the alternate screen
 * (ESC [ ? 1049 l), which puts the cursor back where it was before the view.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal control sequences are the point
const NEW_SCREEN_LINE = /\x1b\[(?:[0-9;]*H|\?1049[hl])/g;

/** The widest line the terminal received, in cells. */
function widest(output: string): { width: number; line: string } {
  let best = { width: 0, line: "" };
  for (const line of output.replace(NEW_SCREEN_LINE, "\n").replace(CSI, "").split("\n")) {
    const width = cellWidth(line);
    if (width > best.width) best = { width, line };
  }
  return best;
}

let dir: string;
let worker: LayoutWorker | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vmaudit-tables-"));
  chmodSync(dir, 0o755);
  worker = await spawnLayoutWorker(LAYOUT, { exe: join(dir, "w"), argv0: ARGV0, file: FILE });
});

afterAll(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
  removeLayoutBuild();
});

describe("on an 80-column terminal no line is wider than 80 cells", () => {
  test("the command line under test is 300 characters or more", () => {
    expect(COMMAND_LINE.length).toBeGreaterThanOrEqual(300);
  });

  test("scan: every process, every line fits; the pid and count are whole", () => {
    const r = runInPty(["scan", "--top", "100000"], { cols: 80 });
    expect(r.code).toBe(0);
    expect(widest(r.output).width).toBeLessThanOrEqual(80);
    const row = r.output.split("\n").find((l) => new RegExp(`^ +\\d+ +${worker?.pid} `).test(l));
    expect(row).toBeDefined();
    // The application keeps its meaningful end; the command line its start.
    expect(row).toContain(" …/dist/vmaudit ");
    expect(row).toMatch(/ \/tmp\/a-rather-long-dir-\S*…$/);
  });

  test("scan honours COLUMNS on a terminal", () => {
    const r = runInPty(["scan", "--top", "100000"], { cols: 80, env: { COLUMNS: "60" } });
    expect(widest(r.output).width).toBeLessThanOrEqual(60);
  });

  test("inspect: the command line is cut, the report fits", () => {
    const r = runInPty(["inspect", String(worker?.pid)], { cols: 80 });
    expect(r.code).toBe(0);
    expect(widest(r.output).width).toBeLessThanOrEqual(80);
    expect(r.output).toContain("  /tmp/a-rather-long-dir-");
  });

  test("watch: the live view and the final report fit", () => {
    const r = runInPty(["watch", "--duration", "0.4", "--interval", "0.1"], { cols: 80 });
    expect(r.code).toBe(0);
    expect(widest(r.output).width).toBeLessThanOrEqual(80);
    expect(r.output).toContain("…/dist/vmaudit");
  });
});

describe("piped, nothing is cut", () => {
  test("scan keeps the 300-character command line and the application name whole", () => {
    const r = runBinary(["scan", "--top", "100000"]);
    expect(r.stdout).toContain(COMMAND_LINE);
    expect(r.stdout).toContain(`  ${ARGV0}\n`);
    // The APPLICATION column of the top table is not padded to the long name.
    const header = r.stdout.split("\n").find((l) => l.includes("APPLICATION  COMMAND")) ?? "";
    expect(header.length).toBeLessThan(80);
  });

  test("inspect keeps the whole command line", () => {
    expect(runBinary(["inspect", String(worker?.pid)]).stdout).toContain(`  ${COMMAND_LINE}\n`);
  });

  test("watch's final report keeps the whole application name", () => {
    const r = runBinary(["watch", "--duration", "0.2", "--interval", "0.1"]);
    expect(r.stdout).toContain(ARGV0);
  });
});
