/**
 * Report details through the compiled binary (issue 9): valid JSON whatever
 * the argv (item 6), the invoking user from the real uid (item 14), vmaudit
 * leaving itself out (item 15), and the small things of item 19.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { escapeControl } from "../../src/render/terminal_text.ts";
import { binary, IS_ROOT, rootTest, runBinary } from "../helpers/env.ts";
import { readFirstLine } from "../helpers/holder.ts";
import { buildLayoutWorker, removeLayoutBuild } from "../helpers/layout_worker.ts";
import { makeProcTree, mapsText, removeTree } from "../helpers/proc_tree.ts";

const AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vmaudit-details-"));
  chmodSync(dir, 0o755);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeLayoutBuild();
});

/** Run the binary with exactly this environment, as cron, systemd or `env -i` would. */
function runBare(args: string[], env: Record<string, string>) {
  const p = Bun.spawnSync([binary(), ...args], { env, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** `jq` (the real one) accepts the document: no half surrogate pair. */
function expectJqAccepts(json: string): void {
  const p = Bun.spawnSync(["jq", "-e", "."], {
    stdin: Buffer.from(json),
    stdout: "ignore",
    stderr: "pipe",
  });
  expect(p.stderr.toString()).toBe("");
  expect(p.exitCode).toBe(0);
}

describe("item 6: a python -c label is cut between characters, and JSON stays valid", () => {
  // The emoji sits across the 40th UTF-16 unit of the label; the combining
  // mark right after it. Cutting at 40 units left "\ud83d", which jq refuses.
  const CODE = `sleep 60; : # ${"a".repeat(25)}🐍e\u0301 and more`;
  let sh: Subprocess<"ignore", "ignore", "ignore"> | undefined;
  beforeAll(async () => {
    sh = Bun.spawn(["sh", "-c", CODE], {
      argv0: "python3",
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    await Bun.sleep(100);
  });
  afterAll(async () => {
    sh?.kill();
    await sh?.exited;
  });

  test("scan --json: jq accepts it, the label ends before the emoji", () => {
    const r = runBinary(["scan", "--json", "--top", "100000"]);
    expectJqAccepts(r.stdout);
    const row = JSON.parse(r.stdout).topProcesses.find((x: { pid: number }) => x.pid === sh?.pid);
    expect(row.app).toBe(`python3 -c 'sleep 60; : # ${"a".repeat(25)}…'`);
  });

  test("inspect --json, watch --json and the peaks file: jq accepts them", () => {
    expectJqAccepts(runBinary(["inspect", String(sh?.pid), "--json"]).stdout);
    const peaks = join(dir, "peaks.json");
    expectJqAccepts(runBinary(["watch", "--duration", "0.2", "--json", "--save", peaks]).stdout);
    expectJqAccepts(readFileSync(peaks, "utf8"));
  });
});

describe("item 14: the invoking user comes from the real uid through passwd", () => {
  rootTest(
    "with an empty environment (cron, env -i) root is root, and the report says nothing was hidden",
    () => {
      const text = runBare(["scan"], { NO_COLOR: "1" });
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(
        "vmaudit ran as root (not through sudo), so no user name was hidden",
      );
      expect(text.stdout).not.toContain("Your user name is shown as <user>");
      const j = JSON.parse(runBare(["scan", "--json", "--top", "100000"], {}).stdout);
      expect(j.anonymisation).toBe("root");
      expect(j.topProcesses.some((r: { user: string }) => r.user === "root")).toBe(true);
    },
  );

  rootTest(
    "under sudo the name comes from SUDO_UID, not SUDO_USER or USER; only whole components are hidden",
    async () => {
      const exe = join(dir, "w");
      copyFileSync(buildLayoutWorker().binary, exe);
      const child = Bun.spawn([...AS_NOBODY, exe, "1", "0", "0", "0", "0", "/home/nobody/data"], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "inherit",
      });
      try {
        expect((await readFirstLine(child.stdout)).trim()).toBe("ready");
        const env = { SUDO_UID: "65534", SUDO_USER: "root", USER: "root", NO_COLOR: "1" };
        const j = JSON.parse(runBare(["scan", "--json", "--top", "100000"], env).stdout);
        expect(j.anonymisation).toBe("user");
        const mine = j.topProcesses.find(
          (r: { argv: string[] }) => r.argv.at(-1) === "/home/<user>/data",
        );
        expect(mine?.user).toBe("<user>");
        // root is never replaced, even when SUDO_USER says root.
        expect(j.topProcesses.some((r: { user: string }) => r.user === "root")).toBe(true);
        expect(JSON.stringify(mine)).not.toContain("nobody");
      } finally {
        child.stdin.end();
        child.kill();
        await child.exited;
      }
    },
  );

  test("a uid with no name in /etc/passwd: the report says nothing was anonymised", () => {
    const env = { SUDO_UID: "3999999", USER: "root", NO_COLOR: "1" };
    const text = runBare(["scan"], env);
    expect(text.stdout).toContain(
      "Your user name could not be found in /etc/passwd, so nothing was anonymised",
    );
    expect(JSON.parse(runBare(["scan", "--json"], env).stdout).anonymisation).toBe("none");
  });
});

describe("item 15: vmaudit leaves itself out", () => {
  test("scan has no row for its own pid and says so in coverage", async () => {
    const p = Bun.spawn([binary(), "scan", "--json", "--top", "100000"], { stdout: "pipe" });
    const j = JSON.parse(await new Response(p.stdout).text());
    await p.exited;
    expect(j.topProcesses.map((r: { pid: number }) => r.pid)).not.toContain(p.pid);
    expect(j.coverage.self).toBe(1);
    expect(runBinary(["scan"]).stdout).toContain("self: 1 left out");
  });

  test("check never names its own pid", async () => {
    const p = Bun.spawn([binary(), "check", "--json"], { stdout: "pipe" });
    const j = JSON.parse(await new Response(p.stdout).text());
    await p.exited;
    expect(j.pid).not.toBe(p.pid);
  });

  test("a fixture proc tree has no self link: nothing is left out", () => {
    const t = makeProcTree({ processes: { 5: { maps: mapsText(3), cmdline: "a\0" } } });
    try {
      expect(JSON.parse(runBinary(["scan", "--json", "--procfs", t]).stdout).coverage.self).toBe(0);
    } finally {
      removeTree(t);
    }
  });
});

describe("item 19: the small things", () => {
  test("one process is '1 process', not '1 processes'", () => {
    const t = makeProcTree({ processes: { 5: { maps: mapsText(3), cmdline: "a\0" } } });
    try {
      const text = runBinary(["scan", "--procfs", t]).stdout;
      expect(text).not.toMatch(/\b1 processes\b/);
      expect(text).toContain("Top 1 of 1 process by VMA count");
      expect(text).toContain("across 1 process\n");
      expect(text).toContain("1 process scanned");
    } finally {
      removeTree(t);
    }
  });

  test("recommendations[].dosRisk, pid and app are null, not absent", () => {
    const j = JSON.parse(runBinary(["scan", "--json", "--vma", "1000"]).stdout);
    const row = j.recommendations.find((r: { basis: string }) => r.basis === "expected-peak");
    expect(row).toMatchObject({ dosRisk: null, pid: null, app: null });
    expect(Object.keys(row)).toEqual(expect.arrayContaining(["dosRisk", "pid", "app"]));
  });

  test("warnings[] holds the DoS warning the text prints, in the same words", () => {
    const j = JSON.parse(runBinary(["scan", "--json", "--vma", "1000000"]).stdout);
    const text = runBinary(["scan", "--vma", "1000000"]).stdout;
    const dos = j.warnings.filter((w: string) => w.includes("denial-of-service"));
    expect(dos).toHaveLength(1);
    // Two runs: the counts may differ, the words may not.
    const digits = (t: string) => t.replace(/\d+/g, "N");
    for (const w of j.warnings) expect(digits(text)).toContain(digits(escapeControl(w)));
  });

  rootTest(
    "warnings[] holds the unreadable-processes warning without root, and the text the same",
    () => {
      const j = JSON.parse(runBinary(["scan", "--json"], { prefix: AS_NOBODY }).stdout);
      const text = runBinary(["scan"], { prefix: AS_NOBODY }).stdout;
      const unreadable = j.warnings.filter((w: string) => w.includes("could not be read"));
      expect(unreadable).toHaveLength(1);
      expect(unreadable[0]).toContain("run as root (sudo vmaudit scan)");
      // Two runs: the counts may differ, the words may not.
      const digits = (t: string) => t.replace(/\d+/g, "N");
      for (const w of j.warnings) expect(digits(text)).toContain(digits(escapeControl(w)));
    },
  );

  test("a few unreadable processes are named by pid and comm; many only counted", () => {
    const few = makeProcTree({
      processes: {
        7: { maps: mapsText(4), cmdline: "ok\0" },
        8: { maps: mapsText(4), cmdline: "x\0", comm: "secretd", mapsMode: 0o000 },
      },
    });
    const many = makeProcTree({
      processes: Object.fromEntries([
        [7, { maps: mapsText(4), cmdline: "ok\0" }],
        ...[20, 21, 22, 23, 24, 25].map((pid) => [
          pid,
          { maps: mapsText(1), cmdline: "x\0", comm: `d${pid}`, mapsMode: 0o000 },
        ]),
      ]),
    });
    try {
      const prefix = IS_ROOT ? AS_NOBODY : [];
      const text = runBinary(["scan", "--procfs", few], { prefix }).stdout;
      expect(text).toContain("1 process could not be read (permission denied): pid 8 (secretd)");
      const j = JSON.parse(runBinary(["scan", "--json", "--procfs", many], { prefix }).stdout);
      expect(j.coverage.unreadable).toBe(6);
      expect(j.coverage.unreadableProcesses).toHaveLength(5);
      expect(j.coverage.unreadableProcesses[0]).toEqual({ pid: 20, comm: "d20" });
      const manyText = runBinary(["scan", "--procfs", many], { prefix }).stdout;
      expect(manyText).toContain("6 processes could not be read (permission denied); run as root");
    } finally {
      removeTree(few);
      removeTree(many);
    }
  });

  test("watch's recommendation does not mention --peaks when none was given", () => {
    const text = runBinary(["watch", "--duration", "0.2", "--interval", "0.1"]).stdout;
    expect(text).toContain("seen while watching");
    expect(text).not.toContain("--peaks");
    const j = JSON.parse(runBinary(["watch", "--duration", "0.2", "--json"]).stdout);
    expect(j.recommendation.basis).toBe("watched-peak");
  });

  test("no thousands separators in the text report", () => {
    const text = runBinary(["scan", "--vma", "1000000"]).stdout;
    expect(text).toContain("1500000");
    expect(text).not.toMatch(/\d,\d{3}/);
  });
});
