/**
 * `vmaudit watch` hardening: the peaks file's counts and fields, the
 * --interval bound (setTimeout's limit), `--save` that never loses a run, and
 * the live view in a real terminal (tmux).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { watchRequest } from "../../src/commands/watch.run.ts";
import { MAX_INTERVAL_MS, watchCommand } from "../../src/commands/watch.ts";
import { ExitError, UsageError } from "../../src/errors.ts";
import { MAX_PEAK_VMAS, PEAKS_KIND, parsePeaksFile } from "../../src/peaks/peaks_file.ts";
import { binary, rootTest, runBinary } from "../helpers/env.ts";
import { type FlagValues, parsed } from "../helpers/parse_args.ts";
import { makeProcTree, mapsText, removeTree } from "../helpers/proc_tree.ts";

/** What `vmaudit watch` makes of its flags: the typed options as watch options. */
function parseWatchOptions(values: FlagValues, env: Record<string, string | undefined>) {
  return watchRequest(parsed(watchCommand, values).options, env);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vmaudit-watch-robust-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const peaksText = (apps: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    kind: PEAKS_KIND,
    schemaVersion: 1,
    updatedAt: "x",
    applications: apps,
    ...extra,
  });
const entry = (over: Record<string, unknown>) => ({
  app: "java",
  vmas: 100,
  pid: 42,
  seenAt: "2025-01-01T00:00:00.000Z",
  ...over,
});

describe("peaks file counts must be safe integers in range", () => {
  const refused: [string, Record<string, unknown>, string][] = [
    ["vmas 1e300", { vmas: 1e300 }, 'has "vmas" 1e+300'],
    ["vmas 2^53", { vmas: 2 ** 53 }, 'has "vmas" 9007199254740992'],
    ["vmas above 2^31", { vmas: MAX_PEAK_VMAS + 1 }, 'has "vmas" 2147483649'],
    ["vmas -1", { vmas: -1 }, 'has "vmas" -1'],
    ["vmas 1.5", { vmas: 1.5 }, 'has "vmas" 1.5'],
    ["vmas as a string", { vmas: "100" }, 'has "vmas" "100"'],
    ["pid 0", { pid: 0 }, 'has "pid" 0'],
    ["pid -5", { pid: -5 }, 'has "pid" -5'],
    ["pid above PID_MAX_LIMIT", { pid: 4194305 }, 'has "pid" 4194305'],
    ["pid 1e300", { pid: 1e300 }, 'has "pid" 1e+300'],
    ["app missing", { app: undefined }, 'has no "app" string'],
    ["seenAt a number", { seenAt: 5 }, 'has no "seenAt" string'],
  ];
  for (const [name, over, message] of refused) {
    test(`${name} is refused as corrupt (exit 1)`, () => {
      let err: unknown;
      try {
        parsePeaksFile(peaksText([entry({}), entry(over)]), "/p.json");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ExitError);
      expect((err as ExitError).code).toBe(1);
      expect((err as ExitError).message).toBe(
        `Cannot use peaks file "/p.json": applications[1] ${message}${message.startsWith("has no") ? "" : `, expected a whole number from ${over.vmas !== undefined ? `0 to ${MAX_PEAK_VMAS}` : "1 to 4194304"}`}, so the file is corrupt`,
      );
    });
  }
  const accepted: [string, Record<string, unknown>][] = [
    ["vmas 0", { vmas: 0 }],
    ["vmas 2^31 (limit INT_MAX + 1)", { vmas: MAX_PEAK_VMAS }],
    ["pid 1", { pid: 1 }],
    ["pid 4194304", { pid: 4194304 }],
  ];
  for (const [name, over] of accepted) {
    test(`${name} is accepted`, () => {
      expect(parsePeaksFile(peaksText([entry(over)]), "p").applications).toEqual([entry(over)]);
    });
  }
  test("an entry that is not an object is refused", () => {
    expect(() => parsePeaksFile(peaksText([entry({}), [1]]), "p")).toThrow(
      "applications[1] is not an object",
    );
  });
});

describe("unknown fields in a peaks file are dropped, never written back", () => {
  test("parsePeaksFile keeps only app, vmas, pid, seenAt", () => {
    const file = parsePeaksFile(
      peaksText([{ ...entry({}), evil: "\u001b]0;x\u0007", nested: { a: 1 } }], { extra: 1 }),
      "p",
    );
    expect(file.applications).toEqual([entry({})]);
    expect(Object.keys(file)).toEqual(["kind", "schemaVersion", "updatedAt", "applications"]);
  });

  test("watch --save rewrites a file without its unknown fields", () => {
    const root = makeProcTree({
      processes: { 7: { maps: mapsText(3), cmdline: "/usr/bin/small\0" } },
      maxMapCount: "65530",
    });
    const path = join(dir, "extra-fields.json");
    writeFileSync(path, peaksText([{ ...entry({}), note: "keep me?" }], { owner: "mallory" }));
    try {
      const r = runBinary(["watch", "--procfs", root, "--duration", "0.05", "--save", path]);
      expect(r.code).toBe(0);
      const saved = JSON.parse(readFileSync(path, "utf8"));
      expect(Object.keys(saved).sort()).toEqual([
        "applications",
        "kind",
        "schemaVersion",
        "updatedAt",
      ]);
      for (const a of saved.applications)
        expect(Object.keys(a).sort()).toEqual(["app", "pid", "seenAt", "vmas"]);
      expect(saved.applications.map((a: { app: string }) => a.app)).toEqual([
        "java",
        "/usr/bin/small",
      ]);
    } finally {
      removeTree(root);
    }
  });

  test("scan --peaks with vmas 1e300 exits 1 and names the entry", () => {
    const path = join(dir, "huge.json");
    writeFileSync(path, peaksText([entry({ vmas: 1e300 })]));
    const r = runBinary(["scan", "--json", "--peaks", path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`applications[0] has "vmas" 1e+300`);
    expect(r.stderr).toContain("so the file is corrupt");
  });
});

describe("--interval above setTimeout's limit", () => {
  const cases: [string, number | undefined][] = [
    ["2147483.647", MAX_INTERVAL_MS],
    ["2147483", 2147483000],
    ["2147483.648", undefined],
    ["2147484", undefined],
    ["3000000", undefined],
    ["99999999999999999999999", undefined],
  ];
  for (const [raw, ms] of cases) {
    test(`--interval ${raw} ${ms === undefined ? "is a usage error" : `is ${ms} ms`}`, () => {
      if (ms === undefined) {
        expect(() => parseWatchOptions({ interval: raw }, {})).toThrow(UsageError);
        expect(() => parseWatchOptions({ interval: raw }, {})).toThrow(
          `Cannot use --interval "${raw}": expected at most 2147483 seconds (about 24 days)`,
        );
      } else expect(parseWatchOptions({ interval: raw }, {}).intervalMs).toBe(ms);
    });
  }
  test("the binary refuses it with exit 2 instead of sampling without pause", () => {
    const r = runBinary(["watch", "--interval", "3000000", "--duration", "0.3", "--json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('Cannot use --interval "3000000"');
  });
});

describe("watch --save never loses a run", () => {
  let root: string;
  beforeAll(() => {
    root = makeProcTree({
      processes: {
        7: { maps: mapsText(30), cmdline: "/usr/bin/seven\0" },
        8: { maps: mapsText(12), cmdline: "/usr/bin/eight\0" },
      },
      maxMapCount: "65530",
    });
  });
  afterAll(() => removeTree(root));

  /** Run the binary through sh (for umask and mounts), with a deadline. */
  function sh(script: string, env: Record<string, string> = {}, timeout = 20_000) {
    const p = Bun.spawnSync(["sh", "-c", script], {
      env: { ...process.env, NO_COLOR: "1", BIN: binary(), PROC: root, ...env },
      stdout: "pipe",
      stderr: "pipe",
      timeout,
    });
    return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  }

  test("a missing folder is created with mode 0755 (even under umask 077) before sampling", () => {
    const target = join(dir, "var", "lib", "vmaudit", "peaks.json");
    const r = sh(
      'umask 077; exec "$BIN" watch --procfs "$PROC" --interval 0.05 --duration 0.2 --save "$T"',
      { T: target },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Peaks saved to ${target}`);
    for (const d of ["var", "var/lib", "var/lib/vmaudit"])
      expect(statSync(join(dir, d)).mode & 0o7777).toBe(0o755);
    const saved = JSON.parse(readFileSync(target, "utf8"));
    expect(saved.applications.map((a: { app: string; vmas: number }) => [a.app, a.vmas])).toEqual([
      ["/usr/bin/seven", 30],
      ["/usr/bin/eight", 12],
    ]);
    // Nothing but the file is left in the folder (the probe is removed).
    expect(readdirSync(join(dir, "var", "lib", "vmaudit"))).toEqual(["peaks.json"]);
  });

  test("a path that cannot be written fails at once, before sampling (no --duration)", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    const t0 = performance.now();
    const r = sh(
      'exec "$BIN" watch --procfs "$PROC" --save "$T"',
      { T: join(file, "peaks.json") },
      5000,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `vmaudit: Cannot save peaks to "${join(file, "peaks.json")}": "${file}" is not a folder\n`,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  rootTest("a read-only folder fails at once, before sampling", () => {
    const ro = join(dir, "ro-at-start");
    mkdirSync(ro);
    const r = sh(
      'exec unshare --mount --propagation private sh -c \'mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" && exec "$BIN" watch --procfs "$PROC" --save "$D/peaks.json"\'',
      { D: ro },
      5000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `vmaudit: Cannot save peaks to "${ro}/peaks.json": cannot create a file in "${ro}" (EROFS)\n`,
    );
  });

  test("a folder replaced during the run: the text report is printed, then the peaks as JSON, exit 1", () => {
    const d = join(dir, "replaced");
    mkdirSync(d);
    const r = sh(
      '"$BIN" watch --procfs "$PROC" --interval 0.05 --duration 1 --save "$D/peaks.json" & pid=$!; sleep 0.4; mv "$D" "$D.gone" && echo x > "$D"; wait $pid',
      { D: d },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("stopped by duration");
    expect(r.stdout).toContain("Recommendation from the peak");
    expect(r.stdout).not.toContain("Peaks saved to");
    // Reading the old file to merge it is what fails first here.
    const error = `Cannot read peaks file "${d}/peaks.json": ENOTDIR`;
    const marker = `Peaks NOT saved: ${error}. The peaks file follows; save it by hand:\n`;
    expect(r.stdout).toContain(marker);
    const unsaved = JSON.parse(r.stdout.slice(r.stdout.indexOf(marker) + marker.length));
    expect(unsaved.kind).toBe(PEAKS_KIND);
    expect(unsaved.applications.map((a: { app: string }) => a.app)).toEqual([
      "/usr/bin/seven",
      "/usr/bin/eight",
    ]);
    expect(r.stderr).toBe(
      `vmaudit: ${error}; the peaks are on stdout instead (the JSON after the report)\n`,
    );
  });

  rootTest(
    "a folder made read-only during the run (bind mount): the JSON report holds the peaks, exit 1",
    () => {
      const d = join(dir, "ro-mid-run");
      mkdirSync(d);
      // The old file is merged into what could not be written.
      writeFileSync(join(d, "peaks.json"), peaksText([entry({ app: "old-app", vmas: 5 })]));
      const r = sh(
        'exec unshare --mount --propagation private sh -c \'"$BIN" watch --procfs "$PROC" --interval 0.05 --duration 1 --json --save "$D/peaks.json" & pid=$!; sleep 0.4; mount --bind "$D" "$D" && mount -o remount,bind,ro "$D"; wait $pid\'',
        { D: d },
      );
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout);
      expect(report.stoppedBy).toBe("duration");
      expect(report.savedTo).toBeNull();
      expect(report.saveError).toBe(`Cannot write "${d}/peaks.json": EROFS`);
      expect(report.unsavedPeaks.applications.map((a: { app: string }) => a.app)).toEqual([
        "/usr/bin/seven",
        "/usr/bin/eight",
        "old-app",
      ]);
      expect(r.stderr).toContain('the peaks are on stdout instead (JSON "unsavedPeaks")');
      // Outside the namespace the folder stayed writable and the file as it was.
      expect(JSON.parse(readFileSync(join(d, "peaks.json"), "utf8")).applications).toHaveLength(1);
    },
  );
});
