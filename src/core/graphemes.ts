/**
 * Text split into grapheme clusters (what a reader sees as one character:
 * an emoji with its modifiers, a letter with its combining marks), so that
 * cutting text never leaves half a surrogate pair, which JSON.stringify
 * writes as `\ud83d` and `jq` refuses. Pure.
 *
 * Intl.Segmenter loads ICU data (about 1.7 ms the first time), so it is made
 * only for text that is not plain ASCII.
 */

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

let segmenter: Intl.Segmenter | undefined;

/**
 * The grapheme clusters of `s`, in order.
 *
 * @example
 * graphemes("e\u0301🐍"); // ["e\u0301", "🐍"]
 */
export function graphemes(s: string): string[] {
  if (PRINTABLE_ASCII.test(s)) return s.split("");
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return Array.from(segmenter.segment(s), (g) => g.segment);
}

/** Grapheme clusters hold few code units; past this many a cut may split one (rare, and handled). */
const SLACK = 64;

/**
 * The grapheme clusters at the start of `s`, at least `units` UTF-16 units of
 * them when `s` is that long, without segmenting all of a long string.
 *
 * @example
 * leadingGraphemes("x".repeat(100000), 3).length; // 66
 */
export function leadingGraphemes(s: string, units: number): string[] {
  if (s.length <= units + SLACK) return graphemes(s);
  const all = graphemes(s.slice(0, units + SLACK));
  all.pop(); // may be half of a cluster the slice cut
  return all;
}

/**
 * The grapheme clusters at the end of `s`, at least `units` UTF-16 units of
 * them when `s` is that long.
 *
 * @example
 * trailingGraphemes("x".repeat(100000), 3).length; // 66
 */
export function trailingGraphemes(s: string, units: number): string[] {
  if (s.length <= units + SLACK) return graphemes(s);
  const all = graphemes(s.slice(s.length - units - SLACK));
  all.shift();
  return all;
}

/**
 * The longest start of `s` that is at most `max` UTF-16 units long and ends
 * between two grapheme clusters.
 *
 * @example
 * prefixWithin("ab🐍", 3); // "ab"
 */
export function prefixWithin(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = "";
  for (const g of leadingGraphemes(s, max)) {
    if (out.length + g.length > max) break;
    out += g;
  }
  return out;
}
