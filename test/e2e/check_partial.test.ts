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
import { binary, IS_ROOT, rootTest } from "../helpers/env.ts";
import { makeProcTree, mapsText, removeTree } from "../helpers/proc_tree.ts";

const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

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
