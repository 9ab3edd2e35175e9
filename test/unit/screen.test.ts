/**
 * The live view's screen helpers, pure: frames, the rows that fit, and the
 * time format.
 */
import { describe, expect, test } from "bun:test";
import { liveFrame, rowsThatFit } from "../../src/render/screen.ts";
import { formatTime } from "../../src/watch/report.ts";

describe("screen helpers", () => {
  const fit: [number, number | undefined, number][] = [
    [20, undefined, 20],
    [20, 24, 20],
    [20, 23, 20],
    [20, 22, 19],
    [20, 10, 7],
    [5, 15, 5],
    [20, 3, 0],
    [20, 1, 0],
    [20, 0, 20],
  ];
  for (const [top, screen, rows] of fit) {
    test(`rowsThatFit(--top ${top}, ${screen} lines, 3 of chrome) is ${rows}`, () => {
      expect(rowsThatFit(top, screen, 3)).toBe(rows);
    });
  }
  test("liveFrame draws from the corner, clears each line's end and below, ends without a newline", () => {
    expect(liveFrame("a\nb\n")).toBe("\x1b[Ha\x1b[K\nb\x1b[K\x1b[J");
  });
  test("formatTime is date and time to the second", () => {
    expect(formatTime("2025-01-02T03:04:05.678Z")).toBe("2025-01-02 03:04:05");
  });
});
