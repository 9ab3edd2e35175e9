import { describe, expect, test } from "bun:test";
import { escapeControl } from "../../src/render/terminal_text.ts";

describe("escapeControl()", () => {
  const cases: [string, string, string][] = [
    ["plain text is unchanged", "/usr/bin/java -Xmx4g", "/usr/bin/java -Xmx4g"],
    ["ESC and BEL of an OSC title", "/x\x1b]0;PWNED\x07", "/x\\x1b]0;PWNED\\x07"],
    ["NUL", "a\0b", "a\\x00b"],
    ["newline and tab", "a\nb\tc", "a\\x0ab\\x09c"],
    ["DEL", "a\x7fb", "a\\x7fb"],
    ["C1 CSI U+009B", "a\u009b31mb", "a\\x9b31mb"],
    ["first and last C1", "\u0080\u009f", "\\x80\\x9f"],
    ["U+00A0 is printable", "a\u00a0b", "a\u00a0b"],
    ["emoji and combining marks pass", "café 🐍 e\u0301", "café 🐍 e\u0301"],
    ["backslash is kept", "C:\\wine\\x.exe", "C:\\wine\\x.exe"],
  ];
  for (const [name, input, want] of cases) {
    test(`escapeControl() ${name}`, () => {
      expect(escapeControl(input)).toBe(want);
    });
  }
  test("escapeControl() output never holds a control character", () => {
    let all = "";
    for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for them
    expect(/[\u0000-\u001f\u007f-\u009f]/.test(escapeControl(all))).toBe(false);
  });
});
