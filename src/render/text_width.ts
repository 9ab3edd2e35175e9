/**
 * How wide text is on a terminal, and how to cut or wrap it to a width
 * without splitting a character. Pure.
 *
 * Widths are terminal cells (Bun.stringWidth: a wide CJK or emoji character
 * takes 2, a combining mark 0, an ANSI colour code 0). Cuts fall between
 * grapheme clusters (core/graphemes.ts), so an emoji or an accented letter
 * is never split.
 */
import { graphemes, leadingGraphemes, trailingGraphemes } from "../core/graphemes.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI colour codes is the point
const SGR = /\x1b\[[0-9;]*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same, kept as split pieces
const SGR_PIECE = /(\x1b\[[0-9;]*m)/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ELLIPSIS = "…";

/**
 * Terminal cells a string takes, ignoring ANSI colour codes.
 *
 * @example
 * cellWidth("vmaudit"); // 7
 * cellWidth("🐍 e\u0301"); // 4
 */
export function cellWidth(s: string): number {
  return PRINTABLE_ASCII.test(s) ? s.length : Bun.stringWidth(s);
}

/**
 * Keep the start of `s` within `max` cells, ending with "…" when cut
 * (for command lines: the program and first arguments matter most).
 *
 * @example
 * cutEnd("/usr/bin/java -Xmx4g", 10); // "/usr/bin/…"
 */
export function cutEnd(s: string, max: number): string {
  if (cellWidth(s) <= max) return s;
  if (max < 1) return "";
  let out = "";
  let used = 0;
  // A cell holds at most a few code units; zero-width clusters beyond that
  // make the cut shorter, never wrong.
  for (const g of leadingGraphemes(s, 4 * max)) {
    const w = cellWidth(g);
    if (used + w > max - 1) break;
    out += g;
    used += w;
  }
  return out + ELLIPSIS;
}

/**
 * Keep the end of `s` within `max` cells, starting with "…" when cut, and at
 * a `/` when the kept end holds one (for application names and paths: the
 * meaningful part is the end, `…/dist/vmaudit`).
 *
 * @example
 * cutStart("/tmp/a-rather-long-dir/dist/vmaudit", 16); // "…/dist/vmaudit"
 */
export function cutStart(s: string, max: number): string {
  if (cellWidth(s) <= max) return s;
  if (max < 1) return "";
  const kept: string[] = [];
  let used = 0;
  const all = trailingGraphemes(s, 4 * max);
  for (let i = all.length - 1; i >= 0; i--) {
    const g = all[i] as string;
    const w = cellWidth(g);
    if (used + w > max - 1) break;
    kept.push(g);
    used += w;
  }
  let tail = kept.reverse().join("");
  const slash = tail.indexOf("/", 1);
  if (slash > 0) tail = tail.slice(slash);
  return ELLIPSIS + tail;
}

/**
 * Split `s` into pieces of at most `first` cells, then `rest` cells, never
 * inside a grapheme cluster or a colour code. A piece holds at least one
 * grapheme, so a width below 2 cannot loop.
 */
function hardSplit(s: string, first: number, rest: number): string[] {
  const pieces: string[] = [];
  let cur = "";
  let used = 0;
  let max = first;
  for (const part of s.split(SGR_PIECE)) {
    if (part.startsWith("\x1b[")) {
      cur += part;
      continue;
    }
    for (const g of graphemes(part)) {
      const w = cellWidth(g);
      if (used + w > max && used > 0) {
        pieces.push(cur);
        cur = "";
        used = 0;
        max = rest;
      }
      cur += g;
      used += w;
    }
  }
  pieces.push(cur);
  return pieces;
}

/**
 * Word-wrap every line of `text` that is wider than `width` cells. A wrapped
 * line continues under its own indent plus two spaces; a word wider than the
 * line is split. Lines that fit are left exactly as they are.
 *
 * @example
 * wrapLines("  one two three\n", 11); // "  one two\n    three\n"
 */
export function wrapLines(text: string, width: number): string {
  return text
    .split("\n")
    .map((line) => (cellWidth(line) <= width ? line : wrapLine(line, width)))
    .join("\n");
}

function wrapLine(line: string, width: number): string {
  const indent = /^ */.exec(line.replace(SGR, ""))?.[0].length ?? 0;
  const prefix = " ".repeat(Math.min(indent + 2, Math.floor(width / 2)));
  const lines: string[] = [];
  let cur = "";
  let used = 0;
  // `start`: nothing placed on this line yet (no separating space needed).
  // `content`: a visible word is on this line (breaking before the next is useful).
  let start = true;
  let content = false;
  const place = (text: string, sep: boolean) => {
    cur += sep ? ` ${text}` : text;
    used += (sep ? 1 : 0) + cellWidth(text);
    start = false;
    if (text.replace(SGR, "") !== "") content = true;
  };
  const newLine = () => {
    lines.push(cur);
    cur = prefix;
    used = prefix.length;
    start = true;
    content = false;
  };
  for (const word of line.split(" ")) {
    const w = cellWidth(word);
    if (used + (start ? 0 : 1) + w <= width) {
      place(word, !start);
      continue;
    }
    if (w === 0) continue;
    if (content) newLine();
    // Only indentation so far: it separates the word, and gives way to it.
    const sep = !start && content;
    if (used + (sep ? 1 : 0) + w <= width) {
      place(word, sep);
      continue;
    }
    const firstWidth = cellWidth(graphemes(word.replace(SGR, ""))[0] ?? "");
    while (used + firstWidth > width && cur.endsWith(" ")) {
      cur = cur.slice(0, -1);
      used--;
    }
    hardSplit(word, width - used - (sep ? 1 : 0), width - prefix.length).forEach((piece, i) => {
      if (i > 0) newLine();
      place(piece, i === 0 && sep);
    });
  }
  lines.push(cur);
  return lines.join("\n");
}
