/**
 * Full-screen terminal output for live views, as `top` and `htop` draw:
 * the alternate screen (so frames never pile up in the scrollback), the
 * cursor hidden, and line wrap off (a long line is cut by the terminal
 * instead of pushing the frame down). Pure: these return the bytes to write.
 * The sequences are xterm's (DEC private modes 1049, 25 and 7), which every
 * terminal emulator in use and tmux and screen understand.
 */

/** Switch to the alternate screen (saving the cursor), hide the cursor, no autowrap. */
export const ENTER_LIVE_SCREEN = "\x1b[?1049h\x1b[?25l\x1b[?7l";

/** Undo {@link ENTER_LIVE_SCREEN}: autowrap on, cursor shown, back to the normal screen and cursor. */
export const LEAVE_LIVE_SCREEN = "\x1b[?7h\x1b[?25h\x1b[?1049l";

/**
 * One frame: from the top-left corner, each line cleared to its end, and the
 * rest of the screen cleared below. Redrawing over the old frame instead of
 * clearing the screen first does not flicker. The last line gets no newline,
 * so a frame as tall as the screen does not scroll it.
 *
 * @example
 * liveFrame("a\nb\n"); // "\x1b[Ha\x1b[K\nb\x1b[K\x1b[J"
 */
export function liveFrame(text: string): string {
  const lines = text.replace(/\n$/, "").split("\n");
  return `\x1b[H${lines.join("\x1b[K\n")}\x1b[K\x1b[J`;
}

/**
 * How many table rows fit in a live view on a screen of `screenRows` lines,
 * with `chrome` lines of header around them; never more than `top`.
 * Unknown height: `top`.
 *
 * @example
 * rowsThatFit(20, 24, 2); // 20
 * rowsThatFit(20, 10, 2); // 8
 */
export function rowsThatFit(top: number, screenRows: number | undefined, chrome: number): number {
  if (screenRows === undefined || !Number.isFinite(screenRows) || screenRows <= 0) return top;
  return Math.max(0, Math.min(top, screenRows - chrome));
}
