/**
 * `vmaudit inspect`: maps parsing and grouping (pure), pid errors, and the
 * compiled binary against a C worker with a known layout, every group exact.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { runMain } from "../src/cli/run_main.ts";
import { COMMANDS } from "../src/commands/index.ts";
import { classifyEntries, type MapsEntry, parseMapsLine } from "../src/inspect/classify.ts";
import { buildInspectReport } from "../src/inspect/report.ts";
import { IS_ROOT, runBinary } from "./helpers/env.ts";
import { fakeIo } from "./helpers/fake_io.ts";
import {
  type Layout,
  type LayoutWorker,
  removeLayoutBuild,
  spawnLayoutWorker,
} from "./helpers/layout_worker.ts";
import { makeProcTree, removeTree } from "./helpers/proc_tree.ts";

const L = (addr: string, perms: string, path = "", inode = "0") =>
  `${addr} ${perms} 00000000 00:00 ${inode}                          ${path}`.trimEnd();

describe("parseMapsLine()", () => {
  test("reads addresses, perms and a path with spaces", () => {
    const e = parseMapsLine(
      "7f0000001000-7f0000002000 rw-s 00000000 00:01 32                         /dev/zero (deleted)",
    );
    expect(e).toEqual({
      start: 0x7f0000001000n,
      end: 0x7f0000002000n,
      perms: "rw-s",
      inode: "32",
      path: "/dev/zero (deleted)",
    });
  });
  test("anonymous lines have an empty path", () => {
    expect(parseMapsLine("1000-2000 r--p 00000000 00:00 0 ")?.path).toBe("");
  });
  test("addresses above 2^53 keep every bit", () => {
    expect(
      parseMapsLine("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]")?.end,
    ).toBe(0xffffffffff601000n);
  });
  test("a line that is not a maps line is undefined", () => {
    expect(parseMapsLine("")).toBeUndefined();
    expect(parseMapsLine("hello world")).toBeUndefined();
  });
});

describe("classifyEntries()", () => {
  const cases: [string, string[], string[]][] = [
    [
      "heap and main stack by name",
      [L("1000-2000", "rw-p", "[heap]"), L("3000-4000", "rw-p", "[stack]")],
      ["heap", "main-stack"],
    ],
    [
      "special mappings",
      [
        L("1000-2000", "r--p", "[vvar]"),
        L("2000-3000", "r-xp", "[vdso]"),
        L("ffffffffff600000-ffffffffff601000", "--xp", "[vsyscall]"),
      ],
      ["special", "special", "special"],
    ],
    [
      "anonymous private, named or not",
      [L("1000-2000", "rw-p"), L("3000-4000", "r--p", "[anon:jemalloc]")],
      ["anon-private", "anon-private"],
    ],
    [
      "anonymous shared: /dev/zero, SysV, named shmem",
      [
        L("1000-2000", "rw-s", "/dev/zero (deleted)"),
        L("3000-4000", "rw-s", "/SYSV00000000 (deleted)"),
        L("5000-6000", "rw-s", "[anon_shmem:pool]"),
      ],
      ["anon-shared", "anon-shared", "anon-shared"],
    ],
    [
      "a shared mapping of a real file is file-backed",
      [L("1000-2000", "rw-s", "/dev/shm/x", "5")],
      ["file"],
    ],
    [
      "file-backed, ---p library gaps included",
      [
        L("1000-2000", "r-xp", "/usr/lib/libc.so.6", "9"),
        L("2000-3000", "---p", "/usr/lib/libc.so.6", "9"),
      ],
      ["file", "file"],
    ],
    [
      "a guard page right below an rw-p region is a thread stack",
      [L("1000-2000", "---p"), L("2000-802000", "rw-p")],
      ["stack-guard", "thread-stack"],
    ],
    [
      "a malloc arena (rw-p below its ---p reserve) is not a stack",
      [L("1000-22000", "rw-p"), L("22000-4000000", "---p")],
      ["anon-private", "prot-none"],
    ],
    [
      "a ---p with a hole above is a reservation",
      [L("1000-2000", "---p"), L("3000-4000", "rw-p")],
      ["prot-none", "anon-private"],
    ],
    [
      "a big ---p reservation below rw-p is not a guard page",
      [L("1000-201000", "---p"), L("201000-202000", "rw-p")],
      ["prot-none", "anon-private"],
    ],
    [
      "a ---p below a read-only region is not a guard",
      [L("1000-2000", "---p"), L("2000-3000", "r--p")],
      ["prot-none", "anon-private"],
    ],
  ];
  for (const [name, lines, expected] of cases) {
    test(name, () => {
      const entries = lines.map(parseMapsLine) as MapsEntry[];
      expect(classifyEntries(entries)).toEqual(expected as never);
    });
  }
});

describe("buildInspectReport()", () => {
  const maps = [
    L("1000-2000", "r--p", "/usr/bin/x", "3"),
    L("2000-4000", "r-xp", "/usr/bin/x", "3"),
    L("5000-6000", "rw-p"),
    L("6000-7000", "rw-p", "[heap]"),
    L("ffffffffff600000-ffffffffff601000", "--xp", "[vsyscall]"),
  ].join("\n");
  const r = buildInspectReport(
    {
      procfs: "/proc",
      pid: 7,
      mapsText: `${maps}\n`,
      argv: ["/usr/bin/x", "--home=/home/ann"],
      comm: undefined,
      maxMapCount: 10,
      topFiles: 10,
      anonymizeUser: "ann",
    },
    new Date(0),
  );
  test("counts VMAs as the kernel does and shares over all lines", () => {
    expect([r.vmas, r.lines]).toEqual([4, 5]);
    const file = r.groups.find((g) => g.id === "file");
    expect(file).toEqual({
      id: "file",
      label: "file-backed",
      count: 2,
      sharePercent: 40,
      bytes: 0x3000,
    });
    expect(r.groups.reduce((s, g) => s + g.count, 0)).toBe(5);
  });
  test("gives the distance to the limit", () => {
    expect(r.limit).toMatchObject({ limit: 10, used: 4, free: 6, freePercent: 60 });
  });
  test("names the biggest group and what it usually means", () => {
    expect(r.biggestGroup).toBe("file");
    expect(r.hint).toContain("mapped data files");
  });
  test("hides the invoking user's name", () => {
    expect(r.commandLine).toBe("/usr/bin/x --home=/home/<user>");
  });
  test("lists files by count with their virtual size", () => {
    expect(r.topFiles).toEqual([{ path: "/usr/bin/x", count: 2, bytes: 0x3000 }]);
    expect(r.distinctFiles).toBe(1);
  });
});

describe("vmaudit inspect errors", () => {
  async function run(args: string[]) {
    const io = fakeIo();
    const code = await runMain(["inspect", ...args], COMMANDS, io);
    return { code, err: io.err, out: io.out };
  }
  for (const bad of ["abc", "-1", "0", "12a", "1.5", "99999999999", "4194305"]) {
    test(`a malformed pid "${bad}" exits 2`, async () => {
      const r = await run(["--", bad]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`Cannot parse PID "${bad}"`);
    });
  }
  test("a missing pid exits 2", async () => {
    expect((await run([])).code).toBe(2);
  });
  test("a pid that does not exist exits 1", async () => {
    const root = makeProcTree({ processes: { 5: { maps: "", kthread: true } } });
    try {
      const r = await run(["--procfs", root, "4194304"]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("No process with pid 4194304");
      const k = await run(["--procfs", root, "5"]);
      expect(k.code).toBe(1);
      expect(k.err).toContain("kernel thread");
    } finally {
      removeTree(root);
    }
  });
  test("a process whose maps cannot be read exits 1 and says why (real EACCES)", () => {
    const root = makeProcTree({
      processes: { 9: { maps: L("1000-2000", "rw-p"), mapsMode: 0o000, cmdline: "x\0" } },
    });
    try {
      // Root reads mode-000 files, so as root run the binary as nobody.
      const prefix = IS_ROOT ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
      const r = runBinary(["inspect", "--procfs", root, "9"], { prefix });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Cannot read "${root}/9/maps": permission denied (EACCES)`);
      expect(r.stderr).toContain("run as root");
    } finally {
      removeTree(root);
    }
  });
});

describe("vmaudit inspect (compiled binary) against a worker with a known layout", () => {
  const layout: Layout = { anon: 300, protNone: 40, fileMaps: 25, shared: 7, threads: 5 };
  let base: LayoutWorker;
  let full: LayoutWorker;
  beforeAll(async () => {
    base = await spawnLayoutWorker({ anon: 0, protNone: 0, fileMaps: 0, shared: 0, threads: 0 });
    full = await spawnLayoutWorker(layout);
  }, 30_000);
  afterAll(async () => {
    await base?.stop();
    await full?.stop();
    removeLayoutBuild();
  });

  function inspect(pid: number) {
    const r = runBinary(["inspect", String(pid), "--json", "--top-files", "50"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const count = (id: string) =>
      report.groups.find((g: { id: string }) => g.id === id)?.count as number;
    return { report, count };
  }

  test("every group count is exact", () => {
    const b = inspect(base.pid);
    const f = inspect(full.pid);
    // The empty worker: a static binary, its bss, heap, stack, and the vDSO areas.
    expect(b.count("thread-stack")).toBe(0);
    expect(b.count("stack-guard")).toBe(0);
    expect(b.count("anon-shared")).toBe(0);
    expect(b.count("prot-none")).toBe(0);
    expect(b.count("main-stack")).toBe(1);

    expect(f.count("anon-private")).toBe(b.count("anon-private") + layout.anon);
    expect(f.count("prot-none")).toBe(layout.protNone);
    expect(f.count("anon-shared")).toBe(layout.shared);
    expect(f.count("thread-stack")).toBe(layout.threads);
    expect(f.count("stack-guard")).toBe(layout.threads);
    expect(f.count("main-stack")).toBe(1);
    expect(f.count("heap")).toBe(b.count("heap"));
    expect(f.count("special")).toBe(b.count("special"));
    // File-backed: the binary's own segments plus exactly fileMaps of the data file.
    const files = Object.fromEntries(
      f.report.topFiles.map((x: { path: string; count: number }) => [x.path, x.count]),
    );
    expect(files[full.file]).toBe(layout.fileMaps);
    const binarySegments = b.report.topFiles[0].count;
    expect(files[full.binary]).toBe(binarySegments);
    expect(f.count("file")).toBe(layout.fileMaps + binarySegments);
    expect(f.report.distinctFiles).toBe(2);

    // The groups cover every line, and the VMA count is the kernel's.
    const lines = readFileSync(`/proc/${full.pid}/maps`, "utf8").split("\n").filter(Boolean);
    expect(f.report.lines).toBe(lines.length);
    const sum = f.report.groups.reduce((s: number, g: { count: number }) => s + g.count, 0);
    expect(sum).toBe(lines.length);
    expect(f.report.vmas).toBe(lines.length - (lines.at(-1)?.endsWith("[vsyscall]") ? 1 : 0));
    expect(f.report.biggestGroup).toBe("anon-private");
    expect(f.report.limit.used).toBe(f.report.vmas);
    expect(f.report.schemaVersion).toBe(1);
  }, 30_000);

  test("the text report shows each group with its share and the hint", () => {
    const r = runBinary(["inspect", String(full.pid)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/thread stacks\s+5\s+\d+\.\d%/);
    expect(r.stdout).toMatch(/thread stack guard pages\s+5\s/);
    expect(r.stdout).toContain("Biggest group: many anonymous private mappings");
    expect(r.stdout).toContain(`free (`);
  });
});
