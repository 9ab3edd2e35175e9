/**
 * Every text renderer shows control characters from other users escaped
 * (escapeControl), while JSON keeps the exact text. The reports here carry a
 * hostile string in every field that comes from outside vmaudit: argv, comm,
 * user names, file names in maps, a peaks file's app, warnings, errors.
 * The compiled binary is tested against a real hostile process in
 * test/e2e/terminal_injection.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { evaluateCheck, unknownCheck } from "../../src/check/evaluate.ts";
import { renderInspectText } from "../../src/inspect/render.ts";
import { buildInspectReport } from "../../src/inspect/report.ts";
import type { Collected } from "../../src/proc/collect.ts";
import { palette } from "../../src/render/color.ts";
import { renderScanJson, renderScanText } from "../../src/scan/render.ts";
import { buildScanReport } from "../../src/scan/report.ts";
import { renderStressText } from "../../src/stress/render.ts";
import { buildWatchReport, renderLiveView, renderWatchText } from "../../src/watch/report.ts";
import { PeakTracker } from "../../src/watch/tracker.ts";

/** An OSC title change ended by BEL, then a one-character C1 CSI (U+009B) starting SGR, then DEL. */
const HOSTILE = "\x1b]0;PWNED\x07\u009b31mRED\x7f";
const SHOWN = "\\x1b]0;PWNED\\x07\\x9b31mRED\\x7f";
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the test
const SGR = /\x1b\[[0-9;]*m/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the test
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** The text has no control character but newlines (and, with colour, vmaudit's own SGR codes). */
function expectSafe(text: string): void {
  const bad = CONTROL.exec(text.replace(SGR, ""));
  expect(
    bad ? `control character U+${bad[0].charCodeAt(0).toString(16)} at ${bad.index}` : "",
  ).toBe("");
}

function collected(): Collected {
  return {
    procfs: "/proc",
    samples: [
      {
        pid: 10,
        vmas: 900_000,
        uid: 1000,
        user: `u${HOSTILE}`,
        argv: [`/x${HOSTILE}/app`, `--arg=${HOSTILE}`],
        comm: undefined,
      },
      { pid: 11, vmas: 5, uid: 0, user: "root", argv: [], comm: `c${HOSTILE}` },
    ],
    coverage: {
      seen: 4,
      scanned: 2,
      unreadable: 1,
      unreadableProcesses: [{ pid: 12, comm: `s${HOSTILE}` }],
      vanished: 0,
      kernelThreads: 0,
      errors: { [`E${HOSTILE}`]: 1 },
      self: 1,
    },
    durationMs: 1,
    asRoot: false,
  };
}

const scanReport = buildScanReport(
  collected(),
  { maxMapCount: 65530, slab: { ok: false, reason: `r${HOSTILE}` } },
  {
    top: 10,
    headroom: 1.5,
    round: 10000,
    vma: 2_000_000,
    anonymizeUser: undefined,
    recordedPeak: { app: `p${HOSTILE}`, vmas: 1_000_000, pid: 13, seenAt: "2025-01-01T00:00:00Z" },
  },
  new Date(0),
  [`journal command '${HOSTILE}'`],
);

const tracker = new PeakTracker();
tracker.observe([{ pid: 10, app: `/x${HOSTILE}/app`, vmas: 9 }], new Date(0), 1);
const watchReport = buildWatchReport(tracker, {
  startedAt: new Date(0),
  endedAt: new Date(1000),
  procfs: "/proc",
  intervalMs: 1000,
  stoppedBy: "duration",
  maxMapCount: 65530,
  objsize: 192,
  headroom: 1.5,
  round: 10000,
  top: 10,
  savedTo: `/tmp/${HOSTILE}.json`,
});

const inspectReport = buildInspectReport(
  {
    procfs: "/proc",
    pid: 10,
    mapsText: `1000-2000 r--p 00000000 08:01 3 /tmp/f${HOSTILE}.bin\n2000-3000 rw-p 00000000 00:00 0\n`,
    argv: [`/x${HOSTILE}/app`],
    comm: undefined,
    maxMapCount: 65530,
    topFiles: 10,
    anonymizeUser: undefined,
  },
  new Date(0),
);

describe("text renderers escape every field that comes from outside", () => {
  for (const color of [false, true]) {
    const p = palette(color);
    const what = color ? "with colour" : "without colour";
    for (const width of [undefined, 80]) {
      const on = width ? "on an 80-column terminal" : "piped";
      test(`scan text ${what}, ${on}`, () => {
        const text = renderScanText(scanReport, p, width);
        expectSafe(text);
        if (!width) expect(text).toContain(`/x${SHOWN}/app --arg=${SHOWN}`);
      });
      test(`watch final report ${what}, ${on}`, () =>
        expectSafe(renderWatchText(watchReport, p, width)));
      test(`watch live view ${what}, ${on}`, () =>
        expectSafe(renderLiveView(tracker, 65530, 10, p, width)));
      test(`inspect ${what}, ${on}`, () => {
        const text = renderInspectText(inspectReport, p, width);
        expectSafe(text);
        if (!width) expect(text).toContain(`/tmp/f${SHOWN}.bin`);
      });
    }
    test(`stress ${what}`, () => {
      const text = renderStressText(
        {
          warnings: [`w${HOSTILE}`],
          limit: {
            original: 1,
            requested: 2,
            during: 2,
            restore: { value: 1, readBack: null, ok: false, error: `e${HOSTILE}` },
          },
          settings: { repeat: 1 },
          checkpoints: [],
          creation: { created: 0, mappingMs: 0, vmasPerSecond: 0 },
          worker: { pid: 1, baseline: 1, rssBytes: null },
          target: 1,
          targetReached: true,
          allExact: true,
          limitCheck: null,
        } as unknown as Parameters<typeof renderStressText>[0],
        p,
      );
      expectSafe(text);
      expect(text).toContain(`w${SHOWN}`);
    });
  }
  test("scan names every hostile field escaped: user, comm, peaks app, warnings, errors", () => {
    const text = renderScanText(scanReport, palette(false));
    for (const shown of [
      `u${SHOWN}`,
      `c${SHOWN}`,
      `s${SHOWN}`,
      `p${SHOWN}`,
      `journal command '${SHOWN}'`,
      `E${SHOWN}`,
      `r${SHOWN}`,
    ])
      expect(text).toContain(shown);
  });
  test("scan JSON keeps the exact text", () => {
    const j = JSON.parse(renderScanJson(scanReport));
    expect(j.topProcesses[0].argv).toEqual([`/x${HOSTILE}/app`, `--arg=${HOSTILE}`]);
    expect(j.coverage.unreadableProcesses[0].comm).toBe(`s${HOSTILE}`);
  });
});

describe("check's status line", () => {
  test("shows C0 and C1 controls escaped, keeps | out and stays one line", () => {
    const r = evaluateCheck({
      busiest: { pid: 1, app: `a|b\n${HOSTILE}`, vmas: 1 },
      limit: 100,
      warn: 80,
      crit: 95,
    });
    expectSafe(r.line);
    expect(r.line).toContain(`(a\\x7cb\\x0a${SHOWN})`);
    expect(r.line.split("|").length).toBe(2);
    expect(r.app).toBe(`a|b\n${HOSTILE}`);
  });
  test("an UNKNOWN reason is escaped too", () => {
    expectSafe(unknownCheck(`Cannot scan "/x${HOSTILE}"`, 80, 95).line);
  });
});
