/**
 * Text that another user controls (argv, comm, file names in maps, peaks
 * files, config file names) made safe for a terminal. Pure.
 *
 * A local user can put escape sequences in their argv or in a file name; if
 * root's terminal receives them raw, it executes them (retitling, cursor
 * moves, OSC 52 clipboard writes). Like `ps` and `systemctl`, vmaudit shows
 * every C0 control (U+0000..U+001F), DEL (U+007F) and C1 control
 * (U+0080..U+009F, which includes U+009B, the one-character CSI) as a visible
 * `\xHH` escape. A backslash is left as it is: the escape is for the eye, not
 * for a parser, and JSON output carries the exact bytes.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this module finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function hexEscape(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * Show C0, DEL and C1 control characters as `\xHH`.
 *
 * @example
 * escapeControl("/x\x1b]0;PWNED\x07"); // "/x\\x1b]0;PWNED\\x07"
 * escapeControl("ok"); // "ok" (same string, no copy)
 */
export function escapeControl(text: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text) ? text.replace(CONTROL, hexEscape) : text;
}

/**
 * escapeControl for text of several lines: the line breaks stay, everything
 * else is escaped.
 *
 * @example
 * escapeControlLines("a\x1b\nb"); // "a\\x1b\nb"
 */
export function escapeControlLines(text: string): string {
  return text.split("\n").map(escapeControl).join("\n");
}
