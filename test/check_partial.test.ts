/**
 * `vmaudit check` must not give a false OK: processes it cannot read make it
 * UNKNOWN (exit 3) unless --allow-partial; every outcome, usage errors
 * included, is one status line on stdout (JSON with --json); a limit that
 * reads absurd is UNKNOWN. Non-root runs use the compiled binary under
 * `setpriv` as nobody.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateCheck, limitProblem, type Unseen, unseenReason } from "../src/check/evaluate.ts";
import { runMain } from "../src/cli/run_main.ts";
import { COMMANDS } from "../src/commands/index.ts";
import { binary, IS_ROOT, rootTest } from "./helpers/env.ts";
import { fakeIo } from "./helpers/fake_io.ts";
import { makeProcTree, mapsText, removeTree } from "./helpers/proc_tree.ts";

const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

describe("limitProblem()", () => {
  const cases: [number, boolean][] = [
    [1, true],
    [65530, true],
    [2147483647, true],
    [0, false],
    [-1, false],
    [2147483648, false],
    [1e23, false],
    [1.5, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
  ];
  for (const [limit, ok] of cases) {
    test(`a limit of ${limit} is ${ok ? "usable" : "refused"}`, () => {
      expect(limitProblem(limit)).toBe(
        ok ? undefined : `it reads ${limit}, expected a whole number from 1 to 2147483647`,
      );
    });
  }
});

describe("unseenReason()", () => {
  const cases: [Unseen, string][] = [
    [
      { seen: 120, denied: 57, errors: {}, asRoot: false },
      "57 of 120 processes could not be read (57 permission denied: not running as root): run as root, or pass --allow-partial to judge the readable ones",
    ],
    [
      { seen: 9, denied: 1, errors: {}, asRoot: true },
      "1 of 9 processes could not be read (1 permission denied even as root): pass --allow-partial to judge the readable ones",
    ],
    [
      { seen: 9, denied: 0, errors: { ENOTREG: 2, EIO: 1 }, asRoot: true },
      "3 of 9 processes could not be read (2 ENOTREG, 1 EIO): pass --allow-partial to judge the readable ones",
    ],
  ];
  for (const [u, line] of cases) {
    test(`${u.denied} denied, errors ${JSON.stringify(u.errors)}, root ${u.asRoot}`, () => {
      expect(unseenReason(u)).toBe(line);
    });
  }
});

test("evaluateCheck() says in the line how many processes --allow-partial left out", () => {
  const r = evaluateCheck({
    busiest: { pid: 7, app: "java", vmas: 10 },
    limit: 100,
    warn: 80,
    crit: 95,
    partial: { unreadable: 3, seen: 9 },
  });
  expect(r.line).toBe(
    "VMAUDIT OK - pid 7 (java) at 10.0% of vm.max_map_count (10 of 100 VMAs); 3 of 9 processes unreadable, allowed by --allow-partial | max_vmas=10;80;95;0;100",
  );
  expect(r.unreadable).toBe(3);
});

async function run(args: string[]) {
  const io = fakeIo();
  const code = await runMain(["check", ...args], COMMANDS, io);
  return { code, out: io.out, err: io.err };
}

describe("every outcome is one status line on stdout (JSON with --json)", () => {
  const usage: [string[], string][] = [
    [["--warn", "abc"], 'Cannot parse --warn "abc": expected a decimal number such as 1.5'],
    [["--crit", "0"], 'Cannot use --crit "0": expected a percent above 0 and at most 100'],
    [["--warn", "96"], "Cannot use --warn 96 above --crit 95: the warning must come first"],
    [["--bogus"], `Unknown option "--bogus" for 'vmaudit check'`],
    [["extra"], `Unexpected argument "extra" for 'vmaudit check'`],
    [["--warn"], "Option --warn needs a value: --warn P"],
    [["--", "--json"], `Unexpected argument "--json" for 'vmaudit check'`],
  ];
  for (const [args, message] of usage) {
    test(`check ${args.join(" ")}: exit 3, the status line on stdout, the error on stderr`, async () => {
      const r = await run(args);
      expect(r.code).toBe(3);
      expect(r.out).toBe(`VMAUDIT UNKNOWN - ${message}\n`);
      expect(r.err).toContain(message);
    });
  }
  for (const [args, message] of usage.slice(0, 6)) {
    test(`check ${args.join(" ")} --json: exit 3 and a JSON document`, async () => {
      const r = await run([...args, "--json"]);
      expect(r.code).toBe(3);
      expect(JSON.parse(r.out)).toEqual({
        schemaVersion: 1,
        status: "UNKNOWN",
        exitCode: 3,
        pid: null,
        app: null,
        vmas: null,
        maxMapCount: null,
        usagePercent: null,
        warn: { percent: null, vmas: null },
        crit: { percent: null, vmas: null },
        unreadable: null,
        line: `VMAUDIT UNKNOWN - ${message}`,
      });
    });
  }
});

describe("a limit that reads negative or absurd is UNKNOWN", () => {
  const cases: [string, string | undefined][] = [
    ["-1", "it reads -1"],
    ["0", "it reads 0"],
    ["2147483648", "it reads 2147483648"],
    ["100000000000000000000000", "it reads 1e+23"],
    ["2147483647", undefined],
  ];
  for (const [text, problem] of cases) {
    test(`max_map_count "${text}" ${problem ? "is UNKNOWN" : "is judged"}`, async () => {
      const root = makeProcTree({
        processes: { 5: { maps: mapsText(10), cmdline: "/usr/bin/a\0" } },
        maxMapCount: text,
      });
      try {
        const r = await run(["--procfs", root]);
        if (problem) {
          expect(r.code).toBe(3);
          expect(r.out).toBe(
            `VMAUDIT UNKNOWN - Cannot use vm.max_map_count from "${root}/sys/vm/max_map_count": ${problem}, expected a whole number from 1 to 2147483647\n`,
          );
        } else {
          expect(r.code).toBe(0);
          expect(r.out).toEndWith(`| max_vmas=10;1717986917;2040109464;0;2147483647\n`);
        }
      } finally {
        removeTree(root);
      }
    });
  }
});

describe("processes that cannot be read make check UNKNOWN", () => {
  /** pid 100 at 81 of 100 (WARNING); pid 200's maps is a FIFO, which nobody, not even root, can count. */
  let root: string;
  beforeAll(() => {
    root = makeProcTree({
      processes: {
        100: { maps: mapsText(81), cmdline: "/usr/bin/java\0" },
        200: { maps: "", cmdline: "/usr/bin/hidden\0" },
      },
      maxMapCount: "100",
    });
    rmSync(join(root, "200", "maps"));
    Bun.spawnSync(["mkfifo", join(root, "200", "maps")]);
  });
  afterAll(() => removeTree(root));

  test("without --allow-partial: exit 3 and why", async () => {
    const r = await run(["--procfs", root]);
    expect(r.code).toBe(3);
    const fix = IS_ROOT ? "pass" : "run as root, or pass";
    expect(r.out).toBe(
      `VMAUDIT UNKNOWN - 1 of 2 processes could not be read (1 ENOTREG): ${fix} --allow-partial to judge the readable ones\n`,
    );
    expect(JSON.parse((await run(["--procfs", root, "--json"])).out)).toMatchObject({
      status: "UNKNOWN",
      unreadable: 1,
    });
  });

  test("with --allow-partial: judged on the readable ones, and the line says so", async () => {
    const r = await run(["--procfs", root, "--allow-partial"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      "VMAUDIT WARNING - pid 100 (/usr/bin/java) at 81.0% of vm.max_map_count (81 of 100 VMAs); 1 of 2 processes unreadable, allowed by --allow-partial | max_vmas=81;80;95;0;100\n",
    );
  });
});

describe("the compiled binary as nobody and as root", () => {
  let bin: string;
  let tmp: string;
  let root: string;
  let sleeper: ReturnType<typeof Bun.spawn> | undefined;
  beforeAll(() => {
    // A copy nobody can execute, wherever the checkout lives.
    tmp = mkdtempSync(join(tmpdir(), "vmaudit-check-partial-"));
    chmodSync(tmp, 0o755);
    bin = join(tmp, "vmaudit");
    copyFileSync(binary(), bin);
    chmodSync(bin, 0o755);
    // pid 100 readable by all, at 81 of 100; pid 200 readable by root only.
    root = makeProcTree({
      processes: {
        100: { maps: mapsText(81), cmdline: "/usr/bin/java\0" },
        200: { maps: mapsText(3), cmdline: "/usr/bin/rootonly\0", mapsMode: 0o000 },
      },
      maxMapCount: "100",
    });
    // A process nobody owns, so nobody can read at least one real process.
    if (IS_ROOT) sleeper = Bun.spawn([...NOBODY, "sleep", "60"]);
  });
  afterAll(() => {
    sleeper?.kill();
    rmSync(tmp, { recursive: true, force: true });
    removeTree(root);
  });

  function runAs(prefix: string[], args: string[]) {
    const p = Bun.spawnSync([...prefix, bin, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
      cwd: tmp,
    });
    return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  }

  rootTest("nobody on the real /proc: UNKNOWN, exit 3, saying how many and why", () => {
    const r = runAs(NOBODY, ["check"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /^VMAUDIT UNKNOWN - (\d+) of (\d+) processes could not be read \(\1 permission denied: not running as root\): run as root, or pass --allow-partial to judge the readable ones\n$/,
    );
    const j = JSON.parse(runAs(NOBODY, ["check", "--json"]).stdout);
    expect(j.status).toBe("UNKNOWN");
    expect(j.unreadable).toBeGreaterThan(0);
  });

  rootTest(
    "nobody on the real /proc with --allow-partial: a status, and the count left out",
    () => {
      const r = runAs(NOBODY, ["check", "--allow-partial"]);
      expect(r.stdout).toMatch(
        /^VMAUDIT (OK|WARNING|CRITICAL) - pid \d+ .*; \d+ of \d+ processes unreadable, allowed by --allow-partial \| max_vmas=/,
      );
      expect(r.stdout.split("\n")).toHaveLength(2);
    },
  );

  rootTest(
    "nobody on a fake tree: UNKNOWN; with --allow-partial, WARNING from the readable one",
    () => {
      const r = runAs(NOBODY, ["check", "--procfs", root]);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe(
        "VMAUDIT UNKNOWN - 1 of 2 processes could not be read (1 permission denied: not running as root): run as root, or pass --allow-partial to judge the readable ones\n",
      );
      const p = runAs(NOBODY, ["check", "--procfs", root, "--allow-partial"]);
      expect(p.code).toBe(1);
      expect(p.stdout).toContain("; 1 of 2 processes unreadable, allowed by --allow-partial |");
    },
  );

  rootTest("root reads both, with or without --allow-partial: WARNING with no note", () => {
    for (const extra of [[], ["--allow-partial"]]) {
      const r = runAs([], ["check", "--procfs", root, ...extra]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(
        "VMAUDIT WARNING - pid 100 (/usr/bin/java) at 81.0% of vm.max_map_count (81 of 100 VMAs) | max_vmas=81;80;95;0;100\n",
      );
    }
  });

  rootTest("root on the real /proc with --allow-partial: one status line, not UNKNOWN", () => {
    const r = runAs([], ["check", "--allow-partial"]);
    expect(r.stdout).toMatch(/^VMAUDIT (OK|WARNING|CRITICAL) - pid \d+ [^\n]*\n$/);
  });

  rootTest(
    "root on the real /proc: UNKNOWN exactly when scan finds processes unreadable even as root",
    () => {
      // In a sandbox, pid 1 can refuse even root; on a plain host nothing does.
      const scan = JSON.parse(runAs([], ["scan", "--json"]).stdout);
      const unread =
        scan.coverage.unreadable +
        Object.values(scan.coverage.errors as Record<string, number>).reduce((a, b) => a + b, 0);
      const r = runAs([], ["check"]);
      if (unread > 0) {
        expect(r.code).toBe(3);
        expect(r.stdout).toMatch(
          /^VMAUDIT UNKNOWN - \d+ of \d+ processes could not be read \(\d+ permission denied even as root\): pass --allow-partial to judge the readable ones\n$/,
        );
      } else
        expect(r.stdout).toMatch(/^VMAUDIT (OK|WARNING|CRITICAL) - pid \d+ [^\n|]*\| [^\n]*\n$/);
      console.log(`check as root here: ${unread} processes unreadable even as root`);
    },
  );

  test("usage errors from the binary: one line on stdout, JSON with --json", () => {
    const r = runAs([], ["check", "--warn", "abc"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe(
      'VMAUDIT UNKNOWN - Cannot parse --warn "abc": expected a decimal number such as 1.5\n',
    );
    const j = runAs([], ["check", "--json", "--bogus"]);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout)).toMatchObject({ status: "UNKNOWN", exitCode: 3 });
  });

  test("an absurd limit from the binary is UNKNOWN, with no 1e+23 in perfdata", () => {
    const t = makeProcTree({
      processes: { 5: { maps: mapsText(10), cmdline: "/usr/bin/a\0" } },
      maxMapCount: "100000000000000000000000",
    });
    try {
      const r = runAs([], ["check", "--procfs", t]);
      expect(r.code).toBe(3);
      expect(r.stdout).toStartWith("VMAUDIT UNKNOWN - Cannot use vm.max_map_count");
      expect(r.stdout).not.toContain("|");
    } finally {
      removeTree(t);
    }
  });
});
