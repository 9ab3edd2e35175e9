/**
 * The compiled scan on fixture proc trees: unreadable processes (a real
 * EACCES, as nobody) and Wine or native programs named .exe.
 */
import { describe, expect, test } from "bun:test";
import { IS_ROOT, runBinary } from "../helpers/env.ts";
import { makeProcTree, mapsText, removeTree } from "../helpers/proc_tree.ts";

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
