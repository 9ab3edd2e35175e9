import { describe, expect, test } from "bun:test";
import { graphemes, prefixWithin } from "../../src/core/graphemes.ts";
import { cellWidth, cutEnd, cutStart, wrapLines } from "../../src/render/text_width.ts";

const SNAKE = "🐍";
const E_ACUTE = "e\u0301";
/** A family emoji: four people joined by zero-width joiners, one cluster of 11 units. */
const FAMILY = "👨‍👩‍👧‍👦";

describe("cellWidth()", () => {
  const cases: [string, string, number][] = [
    ["ASCII", "vmaudit", 7],
    ["empty", "", 0],
    ["an emoji is two cells", SNAKE, 2],
    ["a combining mark adds nothing", E_ACUTE, 1],
    ["CJK is two cells each", "漢字", 4],
    ["colour codes take no room", "\x1b[31mred\x1b[39m", 3],
    ["an escaped control is four cells", "\\x1b", 4],
  ];
  for (const [name, input, want] of cases)
    test(`cellWidth() ${name}`, () => expect(cellWidth(input)).toBe(want));
});

describe("cutEnd() keeps the start", () => {
  const cases: [string, string, number, string][] = [
    ["fits: unchanged", "abc", 3, "abc"],
    ["one too long", "abcd", 3, "ab…"],
    ["width 1 is the ellipsis", "abcd", 1, "…"],
    ["width 0 is empty", "abcd", 0, ""],
    ["an emoji is never split", `ab${SNAKE}cd`, 4, "ab…"],
    ["an emoji that fits stays whole", `ab${SNAKE}cd`, 5, `ab${SNAKE}…`],
    ["a combining mark stays with its letter", `${E_ACUTE}${E_ACUTE}x`, 2, `${E_ACUTE}…`],
    ["a ZWJ family is one cluster", `${FAMILY}${FAMILY}`, 3, `${FAMILY}…`],
    ["CJK by cells", "漢字漢字", 5, "漢字…"],
    ["an escaped control is cut as text", "/x\\x1b]0;PWNED", 6, "/x\\x1…"],
  ];
  for (const [name, input, max, want] of cases)
    test(`cutEnd() ${name}`, () => {
      const got = cutEnd(input, max);
      expect(got).toBe(want);
      expect(cellWidth(got)).toBeLessThanOrEqual(max);
      expect(got.isWellFormed()).toBe(true);
    });
});

describe("cutStart() keeps the end, from a slash when it can", () => {
  const cases: [string, string, number, string][] = [
    ["fits: unchanged", "/usr/bin/java", 13, "/usr/bin/java"],
    ["the meaningful end of a path", "/tmp/a-rather-long-dir/dist/vmaudit", 16, "…/dist/vmaudit"],
    ["no slash: the last cells", "abcdefgh", 4, "…fgh"],
    ["a slash at the very start of the kept part is kept", "/aaaa/bbb", 5, "…/bbb"],
    ["an emoji is never split", `x/${SNAKE}${SNAKE}`, 4, `…${SNAKE}`],
    ["width 1 is the ellipsis", "abcd", 1, "…"],
    ["width 0 is empty", "abcd", 0, ""],
  ];
  for (const [name, input, max, want] of cases)
    test(`cutStart() ${name}`, () => {
      const got = cutStart(input, max);
      expect(got).toBe(want);
      expect(cellWidth(got)).toBeLessThanOrEqual(max);
    });
  test("cutStart() of a 100 000-unit string segments only its end", () => {
    const long = `${"é".repeat(100_000)}/tail`;
    expect(cutStart(long, 8)).toBe("…/tail");
  });
});

describe("wrapLines()", () => {
  const cases: [string, string, number, string][] = [
    ["a line that fits is unchanged", "  one two", 9, "  one two"],
    ["wraps under its indent plus two", "  one two three", 11, "  one two\n    three"],
    ["an unindented line continues under two spaces", "aaa bbb ccc", 7, "aaa bbb\n  ccc"],
    ["a word wider than the line is split", "x abcdefghij", 6, "x\n  abcd\n  efgh\n  ij"],
    ["several lines, each on its own", "ab cd ef\ngh", 5, "ab cd\n  ef\ngh"],
    ["a colour code is never split", "\x1b[33mab cd ef\x1b[39m", 5, "\x1b[33mab cd\n  ef\x1b[39m"],
    [
      "indentation gives way to a word, as much as needed",
      "    abcdef",
      4,
      "   a\n  bc\n  de\n  f",
    ],
  ];
  for (const [name, input, width, want] of cases)
    test(`wrapLines() ${name}`, () => expect(wrapLines(input, width)).toBe(want));

  test("wrapLines() never leaves a line wider than the width (seeded random text)", () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ["a", "bb", " ", " ", SNAKE, E_ACUTE, "漢", FAMILY, "/path/part", "\\x1b"];
    for (let i = 0; i < 500; i++) {
      const width = 4 + rnd(60);
      let line = " ".repeat(rnd(6));
      for (let j = rnd(80); j > 0; j--) line += pieces[rnd(pieces.length)];
      for (const out of wrapLines(line, width).split("\n")) {
        expect(cellWidth(out)).toBeLessThanOrEqual(width);
        expect(out.isWellFormed()).toBe(true);
      }
      // Nothing but spaces is lost.
      expect(wrapLines(line, width).replace(/[\s]/g, "")).toBe(line.replace(/\s/g, ""));
    }
  });
});

describe("prefixWithin() (the python -c label)", () => {
  const cases: [string, string, number, string][] = [
    ["short text is unchanged", "print(1)", 40, "print(1)"],
    ["ASCII is cut at the limit", "x".repeat(50), 40, "x".repeat(40)],
    ["half an emoji is left out", `${"x".repeat(39)}${SNAKE}`, 40, "x".repeat(39)],
    [
      "a whole emoji that fits stays",
      `${"x".repeat(38)}${SNAKE}y`,
      40,
      `${"x".repeat(38)}${SNAKE}`,
    ],
    [
      "a combining mark is not cut off its letter",
      `${"x".repeat(39)}${E_ACUTE}`,
      40,
      "x".repeat(39),
    ],
    ["a ZWJ sequence is one cluster", `${"x".repeat(35)}${FAMILY}`, 40, "x".repeat(35)],
  ];
  for (const [name, input, max, want] of cases)
    test(`prefixWithin() ${name}`, () => expect(prefixWithin(input, max)).toBe(want));

  test("prefixWithin() is always well-formed, within the limit and grapheme-aligned (seeded random text)", () => {
    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ["a", SNAKE, E_ACUTE, "\u0301", FAMILY, "漢", "🇫🇷", "👍🏽"];
    for (let i = 0; i < 2000; i++) {
      let s = "";
      for (let j = rnd(60); j > 0; j--) s += pieces[rnd(pieces.length)];
      const max = rnd(50);
      const p = prefixWithin(s, max);
      expect(p.length).toBeLessThanOrEqual(max);
      expect(p.isWellFormed()).toBe(true);
      expect(s.startsWith(p)).toBe(true);
      // Grapheme-aligned: p is a whole number of s's clusters.
      const clusters = graphemes(s);
      let joined = "";
      for (const c of clusters) {
        if (joined.length >= p.length) break;
        joined += c;
      }
      expect(joined).toBe(p);
    }
  });
});
