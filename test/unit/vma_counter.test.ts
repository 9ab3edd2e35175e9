import { describe, expect, test } from "bun:test";
import { countVmas, VmaCounter } from "../../src/core/vma_counter.ts";
import { mapsText } from "../helpers/proc_tree.ts";

const VSYSCALL =
  "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]";

describe("countVmas()", () => {
  const cases: [string, string, number][] = [
    ["an empty file", "", 0],
    ["one line", "a\n", 1],
    ["no trailing newline", "a\nb", 2],
    ["a single line without newline", "a", 1],
    ["[vsyscall] last is not counted", `a\nb\n${VSYSCALL}\n`, 2],
    ["[vsyscall] last without newline", `a\n${VSYSCALL}`, 1],
    ["[vsyscall] alone", `${VSYSCALL}\n`, 0],
    ["[vsyscall] not last is counted", `${VSYSCALL}\na\n`, 2],
    [
      "a file path ending in vsyscall is counted",
      "a\n7f00-7f01 r--p 0 08:01 5 /tmp/[vsyscall]x\n",
      2,
    ],
    ["a named anon region [anon:x] is counted", "a\n7f00-7f01 rw-p 0 00:00 0 [anon:x]\n", 2],
  ];
  for (const [what, text, n] of cases) {
    test(`${what}: ${n}`, () => expect(countVmas(Buffer.from(text))).toBe(n));
  }
});

describe("VmaCounter fed in chunks", () => {
  const text = `${mapsText(1000)}${VSYSCALL}\n`;
  const bytes = Buffer.from(text);
  for (const size of [1, 3, 7, 31, 32, 33, 4096, bytes.length]) {
    test(`chunks of ${size} bytes give the same count as one read`, () => {
      const c = new VmaCounter();
      const buf = Buffer.alloc(size);
      for (let off = 0; off < bytes.length; off += size) {
        const n = bytes.copy(buf, 0, off, Math.min(off + size, bytes.length));
        c.feed(buf, n);
      }
      expect(c.lines()).toBe(1001);
      expect(c.count()).toBe(1000);
    });
  }
  test("a chunk whose buffer holds stale bytes past its length", () => {
    const c = new VmaCounter();
    const buf = Buffer.from("a\nb\n\n\n\n\n");
    c.feed(buf, 4);
    expect(c.count()).toBe(2);
  });
});
