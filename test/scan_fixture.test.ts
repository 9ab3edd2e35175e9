import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appOf } from "../src/core/app_name.ts";
import { collectProcesses } from "../src/proc/collect.ts";
import { appStatistics, buildScanReport } from "../src/scan/report.ts";
import { scanSystem } from "../src/scan/scan_system.ts";
import { IS_ROOT, runBinary } from "./helpers/env.ts";
import { makeProcTree, mapsText, removeTree, SAMPLE_SLABINFO } from "./helpers/proc_tree.ts";

const VSYSCALL =
  "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

let tree: string;
beforeAll(() => {
  tree = makeProcTree({
    maxMapCount: "65530",
    slabinfo: SAMPLE_SLABINFO,
    processes: {
      1: { maps: mapsText(50), cmdline: "/sbin/init\0splash\0", comm: "systemd" },
      2: { kthread: true, comm: "kthreadd" },
      3: { kthread: true, comm: "kworker/0:0" },
      // vanished: listed, but maps is gone
      40: { cmdline: "gone\0" },
      // a zombie: empty maps, not a kernel thread
      41: { maps: "", cmdline: "", comm: "defunct" },
      100: {
        maps: mapsText(60000) + VSYSCALL,
        cmdline: "C:\\Games\\Big.exe\0-dx12\0",
        comm: "Big.exe",
      },
      101: { maps: mapsText(3000), cmdline: "/usr/bin/python3\0-u\0/home/ann/bot.py\0" },
      102: { maps: mapsText(1000), cmdline: "/usr/bin/python3\0/home/ann/bot.py\0" },
      // odd cmdlines: empty (comm used), none at all ([pid N]), one string with spaces
      103: { maps: mapsText(10), cmdline: "", comm: "kcompactd-ish" },
      104: { maps: mapsText(10) },
      105: { maps: mapsText(10), cmdline: "/usr/sbin/nginx -g daemon off;" },
      106: { maps: mapsText(10), cmdline: Buffer.from([0x2f, 0x78, 0xff, 0x00, 0x22, 0x0a, 0x00]) },
      // no trailing newline on the last maps line
      107: { maps: mapsText(5).slice(0, -1), cmdline: "tail\0" },
    },
  });
});
afterAll(() => removeTree(tree));

describe("collectProcesses() on a fixture tree", () => {
  test("classifies kernel threads, vanished pids and zombies without failing", () => {
    const c = collectProcesses(tree);
    expect(c.coverage).toEqual({
      seen: 13,
      scanned: 9,
      unreadable: 0,
      unreadableProcesses: [],
      vanished: 2,
      kernelThreads: 2,
      errors: {},
      self: 0,
    });
  });

  test("counts maps lines minus [vsyscall], with or without a final newline", () => {
    const byPid = new Map(collectProcesses(tree).samples.map((s) => [s.pid, s.vmas]));
    expect(byPid.get(100)).toBe(60000);
    expect(byPid.get(1)).toBe(50);
    expect(byPid.get(107)).toBe(5);
  });

  test("falls back to comm, then to [pid N], for odd cmdlines", () => {
    const apps = new Map(collectProcesses(tree).samples.map((s) => [s.pid, appOf(s).name]));
    expect(apps.get(103)).toBe("kcompactd-ish");
    expect(apps.get(104)).toBe("[pid 104]");
    expect(apps.get(105)).toBe("/usr/sbin/nginx");
    expect(apps.get(106)).toBe("/x\ufffd");
  });

  test("a pid whose maps is a directory is counted as an error, not fatal", () => {
    const t = makeProcTree({ processes: { 5: { maps: mapsText(3), cmdline: "a\0" } } });
    try {
      const { mkdirSync } = require("node:fs");
      mkdirSync(`${t}/6/maps`, { recursive: true });
      const c = collectProcesses(t);
      expect(c.coverage.scanned).toBe(1);
      expect(c.coverage.errors).toEqual({ EISDIR: 1 });
    } finally {
      removeTree(t);
    }
  });
});

describe("scan report on a fixture tree", () => {
  const options = { top: 3, headroom: 1.5, round: 10000, vma: 80000, anonymizeUser: "ann" };

  test("recommends from the top process and from --vma", () => {
    const r = scanSystem({ procfs: tree, ...options });
    expect(r.maxMapCount).toBe(65530);
    expect(r.recommendations.map((x) => [x.basis, x.peak, x.recommendation.limit])).toEqual([
      ["top-process", 60000, 90000],
      ["expected-peak", 80000, 120000],
    ]);
    const top = r.recommendations[0];
    expect(top?.current?.free).toBe(5530);
    expect(top?.current?.level).toBe("low");
    expect(top?.recommended.free).toBe(30000);
    expect(r.kernel.vmaSlab).toEqual({
      activeObjects: 4200,
      totalObjects: 4410,
      objsize: 192,
      activeBytes: 806400,
      totalBytes: 846720,
    });
  });

  test("lists the top N, the total, and anonymises the invoking user", () => {
    const r = scanSystem({ procfs: tree, ...options });
    expect(r.topProcesses.map((p) => p.pid)).toEqual([100, 101, 102]);
    expect(r.totalVmas).toBe(60000 + 3000 + 1000 + 50 + 10 * 4 + 5);
    expect(r.topProcesses[1]?.argv).toEqual(["/usr/bin/python3", "-u", "/home/<user>/bot.py"]);
    expect(r.topProcesses[1]?.app).toBe("/home/<user>/bot.py");
  });

  test("groups processes into applications with instances, max, mean and min", () => {
    const r = scanSystem({ procfs: tree, ...options });
    const bot = r.applications.find((a) => a.name === "/home/<user>/bot.py");
    expect(bot).toMatchObject({ instances: 2, max: 3000, mean: 2000, min: 1000, kind: "python" });
    expect(r.applications[0]).toMatchObject({ name: "C:\\Games\\Big.exe", kind: "wine" });
  });

  test("says why the slab is missing and leaves the limit unknown on a bare tree", () => {
    const t = makeProcTree({ processes: { 9: { maps: mapsText(2), cmdline: "a\0" } } });
    try {
      const r = scanSystem({ procfs: t, ...options, vma: undefined });
      expect(r.maxMapCount).toBeNull();
      expect(r.kernel.vmaSlab).toBeNull();
      expect(r.kernel.vmaSlabUnavailable).toMatch(/slabinfo/);
      expect(r.recommendations[0]?.current).toBeUndefined();
    } finally {
      removeTree(t);
    }
  });

  test("a recommendation above 1048576 carries the DoS worst case from objsize", () => {
    const c = collectProcesses(tree);
    const kernel = {
      maxMapCount: 65530,
      slab: { ok: true as const, slab: { activeObjects: 1, totalObjects: 1, objsize: 200 } },
    };
    const r = buildScanReport(c, kernel, { ...options, vma: 1_000_000 }, new Date(0));
    const row = r.recommendations[1];
    expect(row?.recommendation.limit).toBe(1_500_000);
    expect(row?.dosRisk).toEqual({
      worstCaseBytes: 300_000_000,
      objsize: 200,
      objsizeSource: "slabinfo",
    });
    expect(r.recommendations[0]?.dosRisk).toBeNull();
  });
});

describe("appStatistics()", () => {
  test("sorts by max descending, then name ascending, and rounds the mean", () => {
    const rows = [
      { app: "b", appKind: "plain" as const, vmas: 10 },
      { app: "a", appKind: "plain" as const, vmas: 10 },
      { app: "c", appKind: "plain" as const, vmas: 1 },
      { app: "c", appKind: "plain" as const, vmas: 2 },
      { app: "z", appKind: "plain" as const, vmas: 99 },
    ];
    expect(appStatistics(rows).map((a) => [a.name, a.max, a.mean, a.min, a.instances])).toEqual([
      ["z", 99, 99, 99, 1],
      ["a", 10, 10, 10, 1],
      ["b", 10, 10, 10, 1],
      ["c", 2, 2, 1, 2], // mean 1.5 rounds to 2
    ]);
  });
});

describe("unreadable processes (real EACCES)", () => {
  test("a maps file the scanning user cannot read is counted as unreadable", () => {
    const t = makeProcTree({
      processes: {
        7: { maps: mapsText(4), cmdline: "ok\0" },
        8: { maps: mapsText(4), cmdline: "secret\0", mapsMode: 0o000 },
      },
    });
    try {
      // Root reads mode-000 files, so as root run the binary as nobody.
      const prefix = IS_ROOT ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
      const r = runBinary(["scan", "--json", "--procfs", t], { prefix });
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.coverage.unreadable).toBe(1);
      expect(report.coverage.scanned).toBe(1);
      expect(report.asRoot).toBe(false);
    } finally {
      removeTree(t);
    }
  });
});

describe("Wine or a native program named .exe (compiled binary, fixture tree)", () => {
  const BUN = "/home/u/node_modules/bun/bin/bun.exe";
  // [pid, cmdline, the exe link (undefined: none), appKind the scan must report]
  const cases: [number, string, string | undefined, string][] = [
    [201, `${BUN}\0x.ts\0`, BUN, "plain"],
    [202, "game.exe\0", "/usr/lib/wine/wine64-preloader", "wine"],
    [203, "/home/u/Games/Game.EXE\0", "/opt/proton/files/bin/wine-preloader (deleted)", "wine"],
    [204, "game.exe\0", undefined, "plain"],
    [205, "C:\\Games\\Big.exe\0", undefined, "wine"],
    [206, "/usr/bin/sleep\0", "/usr/lib/wine/wine64-preloader", "plain"],
  ];
  test(`every process gets its kind (${cases.length} cases), and an exe that is not a link is no sign`, () => {
    const t = makeProcTree({
      processes: {
        ...Object.fromEntries(
          cases.map(([pid, cmdline, exe]) => [
            pid,
            { maps: mapsText(10), cmdline, ...(exe ? { exe } : {}) },
          ]),
        ),
        207: { maps: mapsText(10), cmdline: "odd.exe\0" },
      },
    });
    try {
      // 207's exe is a regular file: readlink fails with EINVAL, like EACCES it is no sign.
      require("node:fs").writeFileSync(`${t}/207/exe`, "/usr/lib/wine/wine64-preloader");
      const r = runBinary(["scan", "--json", "--top", "100", "--procfs", t]);
      expect(r.code).toBe(0);
      const kinds = Object.fromEntries(
        JSON.parse(r.stdout).topProcesses.map((p: { pid: number; appKind: string }) => [
          p.pid,
          p.appKind,
        ]),
      );
      expect(kinds).toEqual({
        ...Object.fromEntries(cases.map((c) => [c[0], c[3]])),
        207: "plain",
      });
    } finally {
      removeTree(t);
    }
  });
});
