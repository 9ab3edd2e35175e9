/**
 * Text made safe for a man(7) page: what groff and mandoc print as written,
 * never read as a request, an escape or a control character. Pure.
 *
 * - A backslash starts an escape: it becomes `\e` (a printable backslash).
 * - `-` becomes `\-`, the ASCII minus: options and paths stay copyable
 *   (a plain `-` is a hyphen, which groff may print as U+2010).
 * - `'`, `` ` ``, `^` and `~` become `\(aq`, `\(ga`, `\(ha` and `\(ti`:
 *   groff otherwise prints curly quotes and modifier letters, which break
 *   shell commands copied from the page (groff_char(7)).
 * - A line that starts with `.` or `'` would be a request: it gets `\&`
 *   in front (after the rule above `'` cannot start a line any more).
 * - Other characters outside ASCII become `\[uXXXX]`, which groff and mandoc
 *   read whatever the input encoding.
 * - Control characters (C0, DEL, C1) have no place in a page: they throw.
 */

/** A character a man page cannot carry. */
export class RoffError extends Error {}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const SPECIAL: Readonly<Record<string, string>> = {
  "\\": "\\e",
  "-": "\\-",
  "'": "\\(aq",
  "`": "\\(ga",
  "^": "\\(ha",
  "~": "\\(ti",
};

/** `text` with every character escaped as the header says; the start of a line is not guarded. */
function escapeChars(text: string): string {
  const bad = CONTROL.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(4, "0");
    throw new RoffError(
      `Cannot put U+${code.toUpperCase()} in a man page: "${JSON.stringify(text).slice(1, -1)}"`,
    );
  }
  let out = "";
  for (const ch of text) {
    const special = SPECIAL[ch];
    if (special !== undefined) out += special;
    else if (ch.charCodeAt(0) < 0x80) out += ch;
    else out += `\\[u${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}]`;
  }
  return out;
}

/** A line that starts with `.` would be a request: `\&` in front makes it text. */
const guardLine = (line: string): string => (line.startsWith(".") ? `\\&${line}` : line);

/**
 * One line of text, escaped for roff (fill or no-fill mode). `text` must not
 * hold a newline or any other control character.
 *
 * @example
 * roffLine("--top N"); // "\\-\\-top N"
 * roffLine(".hidden"); // "\\&.hidden"
 */
export function roffLine(text: string): string {
  return guardLine(escapeChars(text));
}

/** The longest input line: mandoc's style check asks for at most 80 bytes. */
export const ROFF_LINE_WIDTH = 80;

/**
 * Prose for fill mode: runs of whitespace (line breaks of the source
 * included) become one space; then escaped, with a new input line after
 * each sentence (so groff puts its sentence space there) and at most
 * {@link ROFF_LINE_WIDTH} bytes per line where the words allow. Returns the
 * lines joined by newlines.
 *
 * @example
 * roffText("Reads /proc/PID/maps\n  of every process. Then"); // "Reads /proc/PID/maps of every process.\nThen"
 */
export function roffText(text: string): string {
  const words = escapeChars(text.replace(/[ \t\n\r]+/g, " ").trim()).split(" ");
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && line.length + 1 + word.length > ROFF_LINE_WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
    if (/[.!?]$/.test(word)) {
      lines.push(line);
      line = "";
    }
  }
  if (line !== "" || lines.length === 0) lines.push(line);
  return lines.map(guardLine).join("\n");
}

/**
 * A macro argument: escaped, and quoted when it has a space (a `"` inside
 * becomes `\(dq`, since a quote would end the argument).
 *
 * @example
 * roffArg('vmaudit scan'); // '"vmaudit scan"'
 */
export function roffArg(text: string): string {
  const escaped = escapeChars(text.replace(/[ \t\n\r]+/g, " ").trim()).replaceAll('"', "\\(dq");
  return /[ "]/.test(text) || escaped === "" ? `"${escaped}"` : escaped;
}

/**
 * Paragraphs of a source text: blocks separated by blank lines, each as one
 * line of prose.
 *
 * @example
 * paragraphs("a\nb\n\nc"); // ["a b", "c"]
 */
export function paragraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/[ \t\n\r]+/g, " ").trim())
    .filter((p) => p !== "");
}
