/**
 * `vmaudit watch`'s live view in a real pseudo-terminal (tmux): the
 * alternate screen while it runs, as many rows as --top asks and the screen
 * holds (and a resize is followed), no frames left in the scrollback, the
 * final report on a clean line after Ctrl-C, and one time format throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binary } from "../helpers/env.ts";
import { makeProcTree, mapsText, removeTree } from "../helpers/proc_tree.ts";

/** The tmux server's socket, in a folder of its own that afterAll removes. */
const SOCKET_DIR = mkdtempSync(join(tmpdir(), "vmaudit-live-"));
const SOCKET = join(SOCKET_DIR, "tmux.sock");
const TIME = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;
/** A table row of the live view or the report: counts, then a date and time. */
const LIVE_ROW = /^\s+\d+\s+\d+\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\s+\/usr\/bin\/app\d+$/;

function tmux(...args: string[]): string {
  const p = Bun.spawnSync(["tmux", "-S", SOCKET, "-f", "/dev/null", ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (p.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
}

/** Poll until `fn` returns a value, or fail after `ms`. */
async function until<T>(what: string, fn: () => T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const screen = (w: string) => tmux("capture-pane", "-p", "-t", w).replace(/\n+$/, "").split("\n");
/** Everything the pane holds: the scrollback and the normal screen. */
const history = (w: string) => tmux("capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", w);
const alternateOn = (w: string) => tmux("display", "-p", "-t", w, "#{alternate_on}").trim();

describe("the live view in tmux", () => {
  let root: string;
  beforeAll(() => {
    const processes: Record<number, { maps: string; cmdline: string }> = {};
    for (let i = 1; i <= 40; i++)
      processes[100 + i] = { maps: mapsText(i), cmdline: `/usr/bin/app${i}\0` };
    root = makeProcTree({ processes, maxMapCount: "65530" });
  });
  afterAll(() => {
    try {
      tmux("kill-server");
    } catch {
      // Already gone.
    }
    removeTree(root);
    rmSync(SOCKET_DIR, { recursive: true, force: true });
  });

  /** A new 100x15 session `w` running sh, with the binary and tree in its environment; waits for its prompt. */
  async function startPane(w: string): Promise<void> {
    tmux(
      "new-session",
      "-d",
      "-s",
      w,
      "-x",
      "100",
      "-y",
      "15",
      `env BIN='${binary()}' ROOT='${root}' NO_COLOR=1 TERM=xterm-256color PS1='$ ' sh`,
    );
    tmux("set", "-t", w, "history-limit", "10000");
    // Keys typed before sh prints its prompt are echoed before it, and the
    // prompt then sits where the command's output starts.
    await until("the prompt", () => (screen(w)[0] === "$" ? true : undefined));
  }

  test("alternate screen, rows fitted to the height and --top, resize, clean report after Ctrl-C", async () => {
    const w = "ctrl-c";
    await startPane(w);
    tmux(
      "send-keys",
      "-t",
      w,
      '"$BIN" watch --procfs "$ROOT" --interval 0.1; echo EXIT=$?',
      "Enter",
    );
    await until("the live view", () =>
      alternateOn(w) === "1" && screen(w).some((l) => LIVE_ROW.test(l)) ? true : undefined,
    );

    // 15 lines: the title, the table header, 12 rows, one spare (--top 20 does not fit).
    let view = await until("a full frame", () => {
      const s = screen(w);
      return s.filter((l) => LIVE_ROW.test(l)).length === 12 ? s : undefined;
    });
    expect(view[0]).toStartWith("vmaudit watch: ");
    expect(view[1]).toMatch(/^\s+NOW\s+PEAK\s+SEEN\s+PID\s+APPLICATION$/);
    expect(view.filter((l) => l.startsWith("vmaudit watch: "))).toHaveLength(1);
    expect(view[2]).toMatch(/^\s+40\s+40\s+.*\/usr\/bin\/app40$/);

    // A smaller screen: the next frame (or the SIGWINCH redraw) fits it.
    tmux("resize-window", "-t", w, "-x", "100", "-y", "10");
    view = await until("a frame fitted to 10 lines", () => {
      const s = screen(w);
      return s.filter((l) => LIVE_ROW.test(l)).length === 7 ? s : undefined;
    });
    expect(view.length).toBeLessThanOrEqual(10);
    const liveTime = view.find((l) => LIVE_ROW.test(l))?.match(TIME)?.[0];

    tmux("send-keys", "-t", w, "C-c");
    const all = await until("the shell after the report", () => {
      const h = history(w);
      return h.includes("EXIT=0") ? h : undefined;
    });
    expect(alternateOn(w)).toBe("0");
    const lines = all.split("\n");
    // No frame piled up in the scrollback: the live title never reached the normal screen.
    expect(lines.filter((l) => l.includes("vmaudit watch: "))).toEqual([]);
    // The report starts on a line of its own, with no ^C glued to it.
    const head = lines.find((l) => l.includes("Peaks from "));
    expect(head).toStartWith("Peaks from ");
    expect(head).toContain("stopped by SIGINT");
    expect(lines.filter((l) => l.includes("Peaks from "))).toHaveLength(1);
    expect(all).not.toMatch(/\^C\S/);
    // The report lists --top 20 processes and 20 applications: the screen height limits only the live view.
    const headAt = lines.indexOf(head as string);
    const rows = lines.slice(headAt + 2).filter((l) => /^\s+\d+\s+\d{4}-/.test(l));
    expect(rows.length).toBe(40);
    // The same time format in the live view and the report.
    expect(liveTime).toMatch(TIME);
    expect(rows[0]).toMatch(new RegExp(`^\\s+40\\s+${TIME.source}\\s+140\\s+/usr/bin/app40$`));
  }, 30_000);

  test("--top 5 shows 5 rows even on a tall screen", async () => {
    const w = "top5";
    await startPane(w);
    tmux(
      "send-keys",
      "-t",
      w,
      '"$BIN" watch --procfs "$ROOT" --interval 0.1 --top 5 --duration 1.5; echo EXIT=$?',
      "Enter",
    );
    const view = await until("a frame", () => {
      const s = screen(w);
      return alternateOn(w) === "1" && s.some((l) => LIVE_ROW.test(l)) ? s : undefined;
    });
    expect(view.filter((l) => LIVE_ROW.test(l))).toHaveLength(5);
    const all = await until("the end of the run", () => {
      const h = history(w);
      return h.includes("EXIT=0") ? h : undefined;
    });
    expect(alternateOn(w)).toBe("0");
    expect(all).not.toContain("vmaudit watch: ");
    expect(all).toContain("stopped by duration");
  }, 30_000);
});
