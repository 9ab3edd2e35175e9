/**
 * vmaudit inspect, pure: parsing a maps line, grouping the VMAs (thread stacks
 * by shape) and the report.
 */
import { describe, expect, test } from "bun:test";
import { classifyEntries, type MapsEntry, parseMapsLine } from "../../src/inspect/classify.ts";
import { buildInspectReport } from "../../src/inspect/report.ts";

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
