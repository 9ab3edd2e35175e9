/**
 * The compiled binary on hostile proc trees (FIFOs, device nodes, odd pid
 * names) finishes in time and files each case under its error.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPidName, listPids } from "../../src/proc/process.ts";
import { binary, IS_ROOT, rootTest } from "../helpers/env.ts";
import { makeProcTree, mapsText, removeTree, SAMPLE_SLABINFO } from "../helpers/proc_tree.ts";

/** A hang shows as this: the binary is killed (under bun's 5 s test timeout) and the test fails on its exit code. */
const DEADLINE_MS = 4_000;

function mkfifo(path: string): void {
  rmSync(path, { force: true });
  const r = Bun.spawnSync(["mkfifo", "-m", "0644", path]);
  if (r.exitCode !== 0) throw new Error(`mkfifo ${path} failed`);
}

/** A character device node with /dev/zero's numbers (1, 5); needs root (CAP_MKNOD). */
function mknodZero(path: string): void {
  rmSync(path, { force: true });
  const r = Bun.spawnSync(["mknod", "-m", "0644", path, "c", "1", "5"]);
  if (r.exitCode !== 0) throw new Error(`mknod ${path} failed: ${r.stderr.toString()}`);
}

function linkZero(path: string): void {
  rmSync(path, { force: true });
  symlinkSync("/dev/zero", path);
}

/** Run the binary with a deadline; a hang is killed and reported as code -1/null. */
function runBounded(args: string[]) {
  const t0 = performance.now();
  const p = Bun.spawnSync([binary(), ...args], {
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
    timeout: DEADLINE_MS,
  });
  return {
    code: p.exitCode,
    stdout: p.stdout.toString(),
    stderr: p.stderr.toString(),
    ms: performance.now() - t0,
  };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vmaudit-hostile-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the compiled binary on a hostile proc tree finishes in time", () => {
  let root: string;
  beforeAll(() => {
    root = makeProcTree({
      processes: {
        100: { maps: mapsText(50), cmdline: "/usr/bin/good\0" },
        200: { maps: mapsText(1), cmdline: "/usr/bin/fifo-maps\0" },
        300: { maps: mapsText(1), cmdline: "/usr/bin/zero-maps\0" },
        400: { maps: mapsText(7), cmdline: "x" },
        500: { maps: mapsText(1), cmdline: "/usr/bin/dev-maps\0" },
      },
      maxMapCount: "65530",
      slabinfo: SAMPLE_SLABINFO,
    });
    mkfifo(join(root, "200", "maps"));
    linkZero(join(root, "300", "maps"));
    // Process 400 is readable, but its cmdline, comm and stat are not files.
    mkfifo(join(root, "400", "cmdline"));
    linkZero(join(root, "400", "comm"));
    mkfifo(join(root, "400", "stat"));
    mkfifo(join(root, "slabinfo"));
    // A device node (root only: CAP_MKNOD); without root the process keeps a file.
    if (IS_ROOT) mknodZero(join(root, "500", "maps"));
    else unlinkSync(join(root, "500", "maps"));
  });
  afterAll(() => removeTree(root));

  test("scan counts the good processes and files the others under their error", () => {
    const r = runBounded(["scan", "--json", "--procfs", root]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const counted = report.topProcesses.map((p: { pid: number; vmas: number }) => [p.pid, p.vmas]);
    expect(counted).toEqual([
      [100, 50],
      [400, 7],
    ]);
    expect(report.coverage.errors).toEqual(
      IS_ROOT ? { ENOTREG: 2, ELOOP: 1 } : { ENOTREG: 1, ELOOP: 1 },
    );
    expect(report.kernel.vmaSlabUnavailable).toContain("not a regular file");
    expect(r.ms).toBeLessThan(DEADLINE_MS);
  });

  test("inspect of a FIFO maps exits 1 with one line", () => {
    const r = runBounded(["inspect", "--procfs", root, "200"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `vmaudit: Cannot read "${root}/200/maps": not a regular file (a FIFO or a device?)\n`,
    );
  });

  rootTest("inspect of a /dev/zero device node exits 1 at once instead of reading for ever", () => {
    const r = runBounded(["inspect", "--procfs", root, "500"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not a regular file");
  });

  test("scan --peaks on a FIFO and on a link to /dev/zero exits 1 at once", () => {
    const fifo = join(dir, "bin-peaks-fifo.json");
    const link = join(dir, "bin-peaks-zero.json");
    mkfifo(fifo);
    linkZero(link);
    for (const path of [fifo, link]) {
      const r = runBounded(["scan", "--procfs", root, "--peaks", path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Cannot read peaks file "${path}": not a regular file`);
    }
  });

  test("a FIFO as the limit file makes check UNKNOWN, not a hang", () => {
    const t = makeProcTree({
      processes: { 1: { maps: mapsText(3), cmdline: "a\0" } },
      maxMapCount: "65530",
    });
    try {
      mkfifo(join(t, "sys", "vm", "max_map_count"));
      const r = runBounded(["check", "--procfs", t]);
      expect(r.code).toBe(3);
      expect(r.stdout).toStartWith("VMAUDIT UNKNOWN - Cannot read vm.max_map_count");
    } finally {
      removeTree(t);
    }
  });

  test("the tree was left as it was (nothing written into the FIFOs)", () => {
    expect(statSync(join(root, "200", "maps")).isFIFO()).toBe(true);
    expect(readFileSync(join(root, "100", "maps"), "latin1")).toBe(mapsText(50));
  });
});

describe("pid names under a proc root", () => {
  const cases: [string, boolean][] = [
    ["1", true],
    ["123", true],
    ["4194304", true],
    ["4194305", false],
    ["0", false],
    ["0123", false],
    ["00", false],
    ["99999999999999999999", false],
    ["12a", false],
    ["+1", false],
    [" 1", false],
    ["1 ", false],
    ["", false],
    ["self", false],
    ["1e3", false],
  ];
  for (const [name, ok] of cases) {
    test(`isPidName("${name}") is ${ok}`, () => {
      expect(isPidName(name)).toBe(ok);
    });
  }

  test("a fake tree's 0123 and 0 are not processes: listPids and the binary skip them", () => {
    const root = makeProcTree({
      processes: {
        100: { maps: mapsText(5), cmdline: "/usr/bin/real\0" },
      },
      maxMapCount: "65530",
    });
    try {
      for (const name of ["0123", "0", "00100"]) {
        Bun.spawnSync(["cp", "-r", join(root, "100"), join(root, name)]);
        writeFileSync(join(root, name, "maps"), mapsText(900));
      }
      expect(listPids(root)).toEqual([100]);
      const r = runBounded(["scan", "--json", "--procfs", root]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.coverage.seen).toBe(1);
      expect(report.topProcesses.map((p: { pid: number }) => p.pid)).toEqual([100]);
    } finally {
      removeTree(root);
    }
  });
});
