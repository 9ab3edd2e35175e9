/**
 * vmaudit watch, pure: peak tracking and its flags.
 */
import { describe, expect, test } from "bun:test";
import { watchRequest } from "../../src/commands/watch.run.ts";
import { watchCommand } from "../../src/commands/watch.ts";
import { UsageError } from "../../src/errors.ts";
import { palette } from "../../src/render/color.ts";
import { renderLiveView } from "../../src/watch/report.ts";
import { PeakTracker } from "../../src/watch/tracker.ts";
import { type FlagValues, parsed } from "../helpers/parse_args.ts";

/** What `vmaudit watch` makes of its flags: the typed options as watch options. */
function parseWatchOptions(values: FlagValues, env: Record<string, string | undefined>) {
  return watchRequest(parsed(watchCommand, values).options, env);
}

const at = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));

describe("PeakTracker", () => {
  test("keeps each process's highest count and when it was seen", () => {
    const t = new PeakTracker();
    t.observe([{ pid: 1, app: "a", vmas: 10 }], at(0), 1);
    t.observe([{ pid: 1, app: "a", vmas: 30 }], at(1), 3);
    t.observe([{ pid: 1, app: "a", vmas: 20 }], at(2), 2);
    expect(t.processPeaks()).toEqual([
      {
        pid: 1,
        app: "a",
        vmas: 30,
        seenAt: at(1).toISOString(),
        last: 20,
        lastSeenAt: at(2).toISOString(),
      },
    ]);
    expect(t.cost()).toEqual({ samples: 3, meanMs: 2, maxMs: 3, lastMs: 2 });
  });
  test("an equal count later does not move the time of the peak", () => {
    const t = new PeakTracker();
    t.observe([{ pid: 1, app: "a", vmas: 30 }], at(0), 1);
    t.observe([{ pid: 1, app: "a", vmas: 30 }], at(5), 1);
    expect(t.processPeaks()[0]?.seenAt).toBe(at(0).toISOString());
  });
  test("an application's peak is its busiest single process, not a sum", () => {
    const t = new PeakTracker();
    t.observe(
      [
        { pid: 1, app: "java", vmas: 100 },
        { pid: 2, app: "java", vmas: 300 },
        { pid: 3, app: "sh", vmas: 50 },
      ],
      at(0),
      1,
    );
    t.observe([{ pid: 1, app: "java", vmas: 250 }], at(1), 1);
    expect(t.appPeaks()).toEqual([
      { app: "java", vmas: 300, pid: 2, seenAt: at(0).toISOString() },
      { app: "sh", vmas: 50, pid: 3, seenAt: at(0).toISOString() },
    ]);
  });
  test("the live view marks a process that has exited", () => {
    const t = new PeakTracker();
    t.observe(
      [
        { pid: 1, app: "a", vmas: 30 },
        { pid: 2, app: "b", vmas: 20 },
      ],
      at(0),
      1,
    );
    t.observe([{ pid: 2, app: "b", vmas: 25 }], at(1), 1);
    const view = renderLiveView(t, 65530, 10, palette(false));
    expect(view).toMatch(/exited\s+30\s+2025-01-01 00:00:00\s+1\s+a/);
    expect(view).toMatch(/\n\s+25\s+25\s+2025-01-01 00:00:01\s+2\s+b/);
  });
  test("a reused pid running something else is tracked apart", () => {
    const t = new PeakTracker();
    t.observe([{ pid: 7, app: "old", vmas: 500 }], at(0), 1);
    t.observe([{ pid: 7, app: "new", vmas: 5 }], at(1), 1);
    expect(t.processPeaks().map((p) => [p.app, p.vmas])).toEqual([
      ["old", 500],
      ["new", 5],
    ]);
  });
});

describe("watch's flags (parseCommandArgs, then watchRequest())", () => {
  test("defaults: 1 s interval, no duration", () => {
    expect(parseWatchOptions({}, {})).toMatchObject({
      intervalMs: 1000,
      durationMs: undefined,
      top: 20,
      save: undefined,
    });
  });
  test("reads seconds as decimals", () => {
    expect(parseWatchOptions({ interval: "0.25", duration: "90" }, {})).toMatchObject({
      intervalMs: 250,
      durationMs: 90000,
    });
  });
  for (const [flag, raw] of [
    ["interval", "0"],
    ["interval", "0.001"],
    ["interval", "abc"],
    ["duration", "-1"],
    ["save", ""],
    ["headroom", "1.1"],
  ] as const) {
    test(`--${flag} "${raw}" is a usage error`, () => {
      expect(() => parseWatchOptions({ [flag]: raw }, {})).toThrow(UsageError);
    });
  }
});
