/**
 * `vmaudit watch` and the peaks file: peak tracking (pure), the file's
 * validation and merge, `scan --peaks`, and the compiled binary watching a
 * worker whose VMA count rises and falls.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runMain } from "../src/cli/run_main.ts";
import { COMMANDS } from "../src/commands/index.ts";
import { watchRequest } from "../src/commands/watch.run.ts";
import { watchCommand } from "../src/commands/watch.ts";
import { ExitError, UsageError } from "../src/errors.ts";
import {
  mergePeaks,
  PEAKS_KIND,
  type PeakEntry,
  parsePeaksFile,
  savePeaks,
} from "../src/peaks/peaks_file.ts";
import { palette } from "../src/render/color.ts";
import { renderLiveView } from "../src/watch/report.ts";
import { PeakTracker } from "../src/watch/tracker.ts";
import { binary, kernelCount, runBinary } from "./helpers/env.ts";
import { fakeIo } from "./helpers/fake_io.ts";
import { spawnWave, type Wave } from "./helpers/holder.ts";
import { type FlagValues, parsed } from "./helpers/parse_args.ts";
import { makeProcTree, mapsText, removeTree } from "./helpers/proc_tree.ts";

/** What `vmaudit watch` makes of its flags: the typed options as watch options. */
function parseWatchOptions(values: FlagValues, env: Record<string, string | undefined>) {
  return watchRequest(parsed(watchCommand, values).options, env);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vmaudit-watch-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe("peaks file", () => {
  const good = (apps: PeakEntry[]) =>
    JSON.stringify({ kind: PEAKS_KIND, schemaVersion: 1, updatedAt: "x", applications: apps });
  const e = (app: string, vmas: number): PeakEntry => ({ app, vmas, pid: 1, seenAt: "t" });

  const bad: [string, string, RegExp][] = [
    ["not JSON", "{oops", /not valid JSON/],
    ["JSON of another program", '{"name":"x"}', /not a vmaudit peaks file/],
    ["a JSON array", "[]", /not a vmaudit peaks file/],
    [
      "a newer schema",
      JSON.stringify({ kind: PEAKS_KIND, schemaVersion: 2, applications: [] }),
      /schemaVersion 2 is not supported/,
    ],
    [
      "entries without counts",
      JSON.stringify({ kind: PEAKS_KIND, schemaVersion: 1, applications: [{ app: "a" }] }),
      /applications\[0\] has "vmas" undefined/,
    ],
  ];
  for (const [name, text, message] of bad) {
    test(`${name} is refused with exit 1`, () => {
      let err: unknown;
      try {
        parsePeaksFile(text, "/x/peaks.json");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ExitError);
      expect((err as ExitError).code).toBe(1);
      expect((err as ExitError).message).toMatch(message);
      expect((err as ExitError).message).toContain('"/x/peaks.json"');
    });
  }

  test("mergePeaks keeps the higher count per application", () => {
    expect(mergePeaks([e("a", 5), e("b", 9)], [e("a", 7), e("b", 2), e("c", 1)])).toEqual([
      e("b", 9),
      e("a", 7),
      e("c", 1),
    ]);
  });

  test("savePeaks merges with what the file holds", () => {
    const path = join(dir, "merge.json");
    savePeaks(path, [e("a", 50), e("b", 5)], at(0));
    const file = savePeaks(path, [e("a", 10), e("b", 20)], at(1));
    expect(file.applications).toEqual([e("a", 50), e("b", 20)]);
    expect(JSON.parse(readFileSync(path, "utf8")).applications).toEqual([e("a", 50), e("b", 20)]);
  });

  test("savePeaks never overwrites a corrupt or foreign file", () => {
    const path = join(dir, "foreign.json");
    writeFileSync(path, '{"mine": true}\n');
    expect(() => savePeaks(path, [e("a", 1)], at(0))).toThrow(/not a vmaudit peaks file/);
    expect(readFileSync(path, "utf8")).toBe('{"mine": true}\n');
  });

  test("parses what it writes", () => {
    expect(parsePeaksFile(good([e("a", 3)]), "p").applications).toEqual([e("a", 3)]);
  });
});

describe("scan --peaks", () => {
  async function scan(args: string[]) {
    const io = fakeIo();
    const code = await runMain(["scan", ...args], COMMANDS, io);
    return { code, out: io.out, err: io.err };
  }
  const tree = () =>
    makeProcTree({
      processes: { 10: { maps: mapsText(40), cmdline: "/usr/bin/java\0" } },
      maxMapCount: "65530",
    });

  test("adds a recommendation from the recorded peak, counted in recommendedLimit", async () => {
    const root = tree();
    const path = join(dir, "scan-peaks.json");
    writeFileSync(
      path,
      JSON.stringify({
        kind: PEAKS_KIND,
        schemaVersion: 1,
        updatedAt: "x",
        applications: [
          { app: "/usr/bin/java", vmas: 90000, pid: 77, seenAt: "2025-01-01T00:00:00.000Z" },
          { app: "sh", vmas: 10, pid: 78, seenAt: "2025-01-01T00:00:00.000Z" },
        ],
      }),
    );
    try {
      const r = await scan(["--procfs", root, "--json", "--peaks", path]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out);
      const rows = report.recommendations.map((x: { basis: string; peak: number }) => [
        x.basis,
        x.peak,
      ]);
      expect(rows).toEqual([
        ["top-process", 40],
        ["recorded-peak", 90000],
      ]);
      expect(report.recommendedLimit).toBe(140000);
      expect(report.settings.recordedPeak).toMatchObject({ app: "/usr/bin/java", vmas: 90000 });
      const text = await scan(["--procfs", root, "--peaks", path]);
      expect(text.out).toContain("For the recorded peak of 90000 VMAs (pid 77, /usr/bin/java;");
    } finally {
      removeTree(root);
    }
  });

  test("a missing, corrupt or foreign file exits 1 with a clear error and stays untouched", async () => {
    const root = tree();
    const corrupt = join(dir, "corrupt.json");
    writeFileSync(corrupt, "{not json");
    try {
      const missing = await scan(["--procfs", root, "--peaks", join(dir, "nope.json")]);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain("Cannot read peaks file");
      expect(missing.err).toContain("vmaudit watch --save");
      const bad = await scan(["--procfs", root, "--peaks", corrupt]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain("it is not valid JSON");
      expect(readFileSync(corrupt, "utf8")).toBe("{not json");
    } finally {
      removeTree(root);
    }
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

describe("vmaudit watch (compiled binary) on a worker whose count rises and falls", () => {
  let wave: Wave;
  const app = `vmaudit-wave-${process.pid}`;
  beforeAll(async () => {
    wave = await spawnWave({ argv0: app });
  });
  afterAll(async () => {
    await wave?.stop();
  });

  test("records the true peak, when it was seen, the sampling cost, and saves it", async () => {
    const save = join(dir, "wave-peaks.json");
    const proc = Bun.spawn(
      [binary(), "watch", "--interval", "0.05", "--json", "--top", "100000", "--save", save],
      { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    await Bun.sleep(300);
    const base = kernelCount(wave.pid);
    const upAt = Date.now();
    await wave.send("up", 3000);
    const truePeak = kernelCount(wave.pid);
    expect(truePeak).toBeGreaterThanOrEqual(base + 3000);
    await Bun.sleep(400);
    const downAt = Date.now();
    await wave.send("down", 3000);
    await wave.send("up", 1000);
    await Bun.sleep(300);
    const last = kernelCount(wave.pid);
    proc.kill("SIGTERM");
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.schemaVersion).toBe(1);
    expect(report.stoppedBy).toBe("SIGTERM");
    const row = report.processes.find((p: { pid: number }) => p.pid === wave.pid);
    expect(row).toMatchObject({ app, vmas: truePeak, last });
    const seen = Date.parse(row.seenAt);
    expect(seen).toBeGreaterThanOrEqual(upAt - 5);
    expect(seen).toBeLessThanOrEqual(downAt + 5);
    const appRow = report.applications.find((a: { app: string }) => a.app === app);
    expect(appRow).toMatchObject({ vmas: truePeak, pid: wave.pid });
    // The sampling cost is reported and small next to the interval.
    expect(report.sampling.samples).toBeGreaterThanOrEqual(10);
    expect(report.sampling.meanMs).toBeGreaterThan(0);
    expect(report.sampling.meanMs).toBeLessThan(50);
    console.log(
      `watch sampling: ${report.sampling.samples} samples, mean ${report.sampling.meanMs.toFixed(2)} ms, max ${report.sampling.maxMs.toFixed(2)} ms`,
    );
    // The recommendation comes from the run's highest peak.
    expect(report.recommendation.basis).toBe("watched-peak");
    expect(report.recommendation.peak).toBe(report.peak.vmas);
    expect(report.peak.vmas).toBeGreaterThanOrEqual(truePeak);
    // The saved file holds the worker's peak; scan --peaks reads it back.
    const saved = JSON.parse(readFileSync(save, "utf8"));
    expect(saved.kind).toBe("vmaudit-peaks");
    expect(saved.applications.find((a: { app: string }) => a.app === app)?.vmas).toBe(truePeak);
    const scan = runBinary(["scan", "--json", "--peaks", save]);
    expect(scan.code).toBe(0);
    expect(JSON.parse(scan.stdout).settings.recordedPeak).toEqual(saved.applications[0]);
  }, 30_000);

  test("--duration ends the run by itself and prints the text report", () => {
    const r = runBinary(["watch", "--interval", "0.05", "--duration", "0.3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("stopped by duration");
    expect(r.stdout).toContain("Recommendation from the peak");
    expect(r.stdout).not.toContain("\x1b[");
  });

  test("SIGINT (Ctrl-C) stops it cleanly too", async () => {
    const proc = Bun.spawn([binary(), "watch", "--interval", "0.05", "--json"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    await Bun.sleep(300);
    proc.kill("SIGINT");
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    expect(JSON.parse(out).stoppedBy).toBe("SIGINT");
  });

  test("--save to a foreign file fails at once, before sampling, and leaves it alone", () => {
    const path = join(dir, "other.json");
    writeFileSync(path, '{"other": 1}');
    const t0 = Date.now();
    const r = runBinary(["watch", "--save", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not a vmaudit peaks file");
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readFileSync(path, "utf8")).toBe('{"other": 1}');
  });
});
