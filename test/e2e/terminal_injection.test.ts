/**
 * Terminal injection (issue 9, item 2), through the compiled binary against
 * a real hostile process: its argv[0], its executable's file name (so its
 * comm and a maps line) and a mapped data file's name hold an OSC title
 * sequence, BEL, the one-character C1 CSI U+009B and DEL. No text output may
 * pass them to the terminal raw; JSON and Prometheus must keep them exactly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLimit, rootTest, runBinary } from "../helpers/env.ts";
import {
  type LayoutWorker,
  removeLayoutBuild,
  spawnLayoutWorker,
} from "../helpers/layout_worker.ts";
import { parsePromText } from "../helpers/prom_text.ts";
import { runInPty } from "../helpers/pty.ts";

const HOSTILE = "\x1b]0;PWNED\x07\u009b31m\x7f";
const SHOWN = "\\x1b]0;PWNED\\x07\\x9b31m\\x7f";
const ARGV0 = `/x${HOSTILE}/app`;
/**
 * Just under the default limit (65530), so this process is the busiest even
 * while another test elsewhere on the machine holds tens of thousands of VMAs
 * (check, apply and watch name only the busiest).
 */
const VMAS = 65_000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the test
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

/** No control character but newlines: the output is safe on any terminal. */
function expectSafe(text: string): void {
  const bad = CONTROL.exec(text);
  expect(
    bad
      ? `U+${bad[0].charCodeAt(0).toString(16)} at ${bad.index}: ${JSON.stringify(text.slice(Math.max(0, bad.index - 40), bad.index + 20))}`
      : "",
  ).toBe("");
}

let dir: string;
let worker: LayoutWorker | undefined;
let exe: string;
let data: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vmaudit-hostile-"));
  exe = join(dir, `w${HOSTILE}`);
  data = join(dir, `f${HOSTILE}.bin`);
  writeFileSync(data, Buffer.alloc(4096, 1));
  worker = await spawnLayoutWorker(
    { anon: VMAS, protNone: 0, fileMaps: 1, shared: 0, threads: 0 },
    { exe, argv0: ARGV0, file: data },
  );
});

afterAll(async () => {
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
  removeLayoutBuild();
});

describe("a hostile process's argv, comm and file names never reach the terminal raw", () => {
  test("scan: text escaped, JSON and Prometheus exact", () => {
    const text = runBinary(["scan", "--top", "100000"]);
    expect(text.code).toBe(0);
    expectSafe(text.stdout);
    expect(text.stdout).toContain(`/x${SHOWN}/app`);
    const json = JSON.parse(runBinary(["scan", "--json", "--top", "100000"]).stdout);
    const row = json.topProcesses.find((r: { pid: number }) => r.pid === worker?.pid);
    expect(row.argv[0]).toBe(ARGV0);
    expect(row.app).toBe(ARGV0);
    const prom = parsePromText(runBinary(["scan", "--format", "prometheus"]).stdout);
    expect(prom.some((s) => s.labels.app === ARGV0)).toBe(true);
  });

  test("scan with colour forced: only vmaudit's own colour codes", () => {
    const r = runBinary(["scan", "--top", "5"], { env: { NO_COLOR: "", FORCE_COLOR: "1" } });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: vmaudit's own SGR codes
    const own = /\x1b\[[0-9;]*m/g;
    expect(r.stdout).toMatch(own);
    expectSafe(r.stdout.replace(own, ""));
  });

  test("check: the status line is escaped and stays one line", () => {
    // --allow-partial: in a sandbox even root may not read pid 1, and check is
    // then UNKNOWN without naming the busiest process.
    const r = runBinary(["check", "--allow-partial"]);
    expectSafe(r.stdout);
    expect(r.stdout).toContain(`pid ${worker?.pid} (/x${SHOWN}/app)`);
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(1);
    const j = JSON.parse(runBinary(["check", "--allow-partial", "--json"]).stdout);
    expect(j.app).toBe(ARGV0);
  });

  test("inspect: the command line and the mapped files' names are escaped", () => {
    const r = runBinary(["inspect", String(worker?.pid)]);
    expect(r.code).toBe(0);
    expectSafe(r.stdout);
    expect(r.stdout).toContain(`/f${SHOWN}.bin`);
    expect(r.stdout).toContain(`/w${SHOWN}`);
    const j = JSON.parse(runBinary(["inspect", String(worker?.pid), "--json"]).stdout);
    expect(j.topFiles.map((f: { path: string }) => f.path)).toContain(data);
  });

  test("watch: the final report is escaped, its JSON exact", () => {
    const r = runBinary(["watch", "--duration", "0.3", "--interval", "0.1"]);
    expect(r.code).toBe(0);
    expectSafe(r.stdout);
    expect(r.stdout).toContain(`/x${SHOWN}/app`);
    const j = JSON.parse(runBinary(["watch", "--duration", "0.2", "--json"]).stdout);
    expect(j.peak.app).toBe(ARGV0);
  });

  test("watch: the live view on a terminal is escaped", () => {
    const r = runInPty(["watch", "--duration", "0.5", "--interval", "0.1"], { cols: 120 });
    expect(r.code).toBe(0);
    expect(r.output).toContain(`/x${SHOWN}/app`);
    for (const raw of ["\x1b]", "\x07", "\u009b", "\x7f"]) expect(r.output).not.toContain(raw);
  });

  test("scan --peaks: a peaks file's app is escaped, kept exact in JSON", () => {
    const peaks = join(dir, "peaks.json");
    const app = `p${HOSTILE}`;
    writeFileSync(
      peaks,
      JSON.stringify({
        kind: "vmaudit-peaks",
        schemaVersion: 1,
        updatedAt: "2025-01-01T00:00:00.000Z",
        applications: [{ app, vmas: 100, pid: 1, seenAt: "2025-01-01T00:00:00.000Z" }],
      }),
    );
    const r = runBinary(["scan", "--peaks", peaks]);
    expect(r.code).toBe(0);
    expectSafe(r.stdout);
    expect(r.stdout).toContain(`p${SHOWN}`);
    const j = JSON.parse(runBinary(["scan", "--json", "--peaks", peaks]).stdout);
    expect(j.settings.recordedPeak.app).toBe(app);
  });

  test("error messages quote file names escaped", () => {
    const r = runBinary(["scan", "--peaks", join(dir, `missing${HOSTILE}.json`)]);
    expect(r.code).toBe(1);
    expectSafe(r.stderr);
    expect(r.stderr).toContain(`missing${SHOWN}.json`);
  });

  test("apply --show-config: a config file's name and value are escaped", () => {
    const root = join(dir, "root");
    mkdirSync(join(root, "etc", "sysctl.d"), { recursive: true });
    writeFileSync(
      join(root, "etc", "sysctl.d", `50-x${HOSTILE}.conf`),
      `vm.max_map_count = 262144${HOSTILE}\n`,
    );
    const r = runBinary(["apply", "--show-config", "--root", root]);
    expectSafe(r.stdout);
    expect(r.stdout).toContain(`50-x${SHOWN}.conf`);
    const j = JSON.parse(runBinary(["apply", "--show-config", "--root", root, "--json"]).stdout);
    expect(JSON.stringify(j)).toContain(JSON.stringify(`50-x${HOSTILE}.conf`).slice(1, -1));
  });

  rootTest("apply --dry-run: the busiest process is named escaped", () => {
    const r = runBinary(["apply", "--dry-run", String(readLimit())]);
    expect(r.code).toBe(0);
    expectSafe(r.stdout);
    expect(r.stdout).toContain(`(/x${SHOWN}/app) with`);
  });

  rootTest("stress: the journal of an unfinished run is reported escaped", () => {
    // Runs under the kernel lock with the suite; it restores the limit it
    // finds, so vm.max_map_count does not change.
    const runDir = join(dir, "run");
    mkdirSync(runDir, { mode: 0o700 });
    const limit = readLimit();
    writeFileSync(
      join(runDir, "limit-journal.json"),
      JSON.stringify({
        version: 1,
        originalLimit: limit,
        temporaryLimit: limit + 1,
        pid: 4_194_303,
        command: `vmaudit stress ${HOSTILE}`,
        startedAt: "2025-01-01T00:00:00.000Z",
      }),
      { mode: 0o600 },
    );
    const r = runBinary(["stress", "--target", "100", "--no-limit-check"], {
      env: { VMAUDIT_RUN_DIR: runDir },
    });
    expect(readLimit()).toBe(limit);
    expect(r.code).toBe(0);
    expectSafe(r.stdout);
    expectSafe(r.stderr);
    expect(r.stderr).toContain(`vmaudit stress ${SHOWN}`);
  });
});
