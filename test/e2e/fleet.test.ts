/**
 * The compiled `vmaudit fleet` on reports the compiled `vmaudit scan --json`
 * wrote for fixture proc trees of three hosts (each with its own host name,
 * limit and processes), from a folder and from stdin; its exit codes; its
 * time over 1,000 reports; and the host name's UTS namespace caveat on the
 * real kernel.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "../../src/core/median.ts";
import { recommendLimit } from "../../src/core/recommend.ts";
import { binary, rootTest, runBinary } from "../helpers/env.ts";
import { fakeScanJson, generatedFleet, writeReports } from "../helpers/fleet_reports.ts";
import { makeProcTree, mapsText, removeTree } from "../helpers/proc_tree.ts";

const work = mkdtempSync(join(tmpdir(), "vmaudit-fleet-e2e-"));
chmodSync(work, 0o755);
const trees: string[] = [];
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  for (const t of trees) removeTree(t);
});

const HOSTILE = "db\x1b]0;owned\x07-2";

/** Three hosts: the peak (9000 VMAs) is on the one with the hostile name, whose limit is highest. */
const HOSTS = [
  {
    name: "web-1",
    limit: 65530,
    vmas: 1200,
    app: "nginx",
    boot: "11111111-1111-4111-8111-111111111111",
  },
  {
    name: HOSTILE,
    limit: 262144,
    vmas: 9000,
    app: "java",
    boot: "22222222-2222-4222-8222-222222222222",
  },
  {
    name: "web-3",
    limit: 30000,
    vmas: 300,
    app: "nginx",
    boot: "33333333-3333-4333-8333-333333333333",
  },
];

/** `vmaudit scan --json` of each host's fixture tree, written to dir/NAME.json. */
function scanHosts(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return HOSTS.map((h, i) => {
    const t = makeProcTree({
      processes: {
        1: { maps: mapsText(20), cmdline: "init\0" },
        4242: { maps: mapsText(h.vmas), cmdline: `${h.app}\0-x\0` },
      },
      maxMapCount: String(h.limit),
      hostname: h.name,
      osrelease: "6.1.0-18-amd64",
      bootId: h.boot,
    });
    trees.push(t);
    const r = runBinary(["scan", "--json", "--procfs", t]);
    expect(r.code).toBe(0);
    const path = join(dir, `host-${i + 1}.json`);
    writeFileSync(path, r.stdout);
    return path;
  });
}

function runWithStdin(args: string[], stdin: string) {
  const p = Bun.spawnSync([binary(), ...args], {
    stdin: new TextEncoder().encode(stdin),
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("vmaudit fleet on three hosts' scans", () => {
  const dir = join(work, "three");
  const files = scanHosts(dir);

  test("the recommendation is the engine's on the highest peak; hosts below it are named", () => {
    const r = runBinary(["fleet", dir, "--json"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    const f = JSON.parse(r.stdout);
    const value = recommendLimit({ peak: 9000, headroom: 1.5, round: 10000 }).limit;
    expect(f.recommendedLimit).toBe(value);
    expect(f.recommendations[0]).toMatchObject({
      host: HOSTILE,
      app: "java",
      peak: 9000,
      pid: 4242,
    });
    expect(f.below).toEqual([{ host: "web-3", source: files[2], maxMapCount: 30000 }]);
    expect(f.hosts.map((h: { host: string }) => h.host).sort()).toEqual(
      HOSTS.map((h) => h.name).sort(),
    );
    expect(f.applications.find((a: { name: string }) => a.name === "nginx")).toMatchObject({
      hosts: 2,
      max: 1200,
      maxHost: "web-1",
    });
  });

  test("the text escapes the hostile host name; --headroom and --round go to the engine", () => {
    const r = runBinary(["fleet", ...files, "--headroom", "2", "--round", "1"]);
    expect(r.code).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for them
    expect(r.stdout).not.toMatch(/[\x1b\x07]/);
    const value = recommendLimit({ peak: 9000, headroom: 2, round: 1 }).limit;
    expect(r.stdout).toContain(
      "For the fleet's highest peak, pid 4242 (java) on db\\x1b]0;owned\\x07-2 at 9000 VMAs:",
    );
    expect(r.stdout).toContain(`Below ${value} today: 1 of 3 hosts: web-3 (30000)`);
  });

  test("stdin: one compact report per line, the same result as the folder", () => {
    const lines = files.map((f) => JSON.stringify(JSON.parse(readFileSync(f, "utf8")))).join("\n");
    const r = runWithStdin(["fleet", "-", "--json"], `${lines}\n`);
    expect(r.code).toBe(0);
    const f = JSON.parse(r.stdout);
    expect(f.hosts.map((h: { source: string }) => h.source).sort()).toEqual(["-:1", "-:2", "-:3"]);
    expect(f.recommendedLimit).toBe(
      JSON.parse(runBinary(["fleet", dir, "--json"]).stdout).recommendedLimit,
    );
  });

  test("a bad report: exit 1 naming it (escaped), nothing on stdout; --skip-bad lists it and exits 0", () => {
    const bad = join(dir, "bad\x1b[31m.json");
    writeFileSync(bad, "not json");
    try {
      const r = runBinary(["fleet", dir, "--json"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `vmaudit: Cannot use report "${dir}/bad\\x1b[31m.json": it is not valid JSON\n` +
          "vmaudit: Cannot size the fleet: 1 of 4 reports is not usable; fix or remove it, or pass --skip-bad to size the fleet from the rest\n",
      );
      const s = runBinary(["fleet", dir, "--json", "--skip-bad"]);
      expect(s.code).toBe(0);
      expect(JSON.parse(s.stdout).reports.skipped).toEqual([
        { source: bad, reason: "it is not valid JSON" },
      ]);
    } finally {
      rmSync(bad);
    }
  });

  test("exit codes: 1 when nothing is usable, 2 for usage errors; help lists the codes", () => {
    const none = runBinary(["fleet", join(work, "nothing-here.json"), "--skip-bad"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("Cannot size the fleet: none of the 1 reports is usable");
    expect(runBinary(["fleet"]).code).toBe(2);
    expect(runBinary(["fleet", dir, "--max-age", "soon"]).code).toBe(2);
    expect(runBinary(["fleet", dir, "--headroom", "1.1"]).code).toBe(2);
    const help = runBinary(["fleet", "--help"]);
    expect(help.stdout).toStartWith("Usage: vmaudit fleet [options] REPORT...");
    expect(help.stdout).toContain("Exit codes: 0 ok; 1 a report cannot be read");
    expect(runBinary(["--help"]).stdout).toContain("  fleet ");
  });
});

test("vmaudit fleet over 1,000 reports: the time it takes (printed, not asserted)", () => {
  const dir = join(work, "thousand");
  const hosts = generatedFleet(1000, 150_000);
  writeReports(dir, Object.fromEntries(hosts.map((h) => [h.host as string, fakeScanJson(h)])));
  const times: number[] = [];
  let out = "";
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const r = runBinary(["fleet", dir, "--json"]);
    times.push(performance.now() - started);
    expect(r.code).toBe(0);
    out = r.stdout;
  }
  const text = [0, 1, 2].map(() => {
    const started = performance.now();
    const r = runBinary(["fleet", dir]);
    expect(r.code).toBe(0);
    return performance.now() - started;
  });
  console.log(
    `vmaudit fleet over 1,000 reports (compiled binary, start-up included): --json median ${median(times).toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(", ")}), text median ${median(text).toFixed(0)} ms`,
  );
  const f = JSON.parse(out);
  expect(f.reports.used).toBe(1000);
  expect(f.recommendedLimit).toBe(
    recommendLimit({ peak: 150_000, headroom: 1.5, round: 10000 }).limit,
  );
});

rootTest(
  "a scan of another /proc from its own UTS namespace warns that the host name may be its own",
  () => {
    // A new pid namespace whose init (pid 1, a shell) stays in the original UTS
    // namespace, its /proc bound to a second path; vmaudit then runs in a new
    // UTS namespace with another name, as a container that mounts /host/proc.
    const mnt = join(work, "hostproc");
    mkdirSync(mnt);
    const script = `mount --bind /proc ${mnt} && unshare --uts sh -c 'hostname inner-name && ${binary()} scan --json --top 1 --procfs ${mnt}'`;
    const p = Bun.spawnSync(
      ["unshare", "--pid", "--fork", "--mount", "--mount-proc", "sh", "-c", script],
      {
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    expect([p.exitCode, p.stderr.toString()]).toEqual([0, ""]);
    const report = JSON.parse(p.stdout.toString());
    // The kernel answers from vmaudit's UTS namespace, not from the mount.
    expect(report.host).toBe("inner-name");
    expect(report.warnings).toContain(
      `The host name "inner-name" may be this container's own, not the scanned host's: ${mnt}/sys/kernel/hostname answers from the UTS namespace of the process reading it, and vmaudit's differs from that of ${mnt}/1; run it in the host's UTS namespace (podman or docker --uts=host) to report the host's name`,
    );
    // The boot id is the host's in every namespace.
    expect(report.bootId).toBe(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
  },
);
