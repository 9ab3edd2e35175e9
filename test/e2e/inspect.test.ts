/**
 * vmaudit inspect end to end: pid errors, an unreadable process (a real
 * EACCES), and the compiled binary against a C worker with a known layout,
 * every group exact.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { runMain } from "../../src/cli/run_main.ts";
import { COMMANDS } from "../../src/commands/index.ts";
import { IS_ROOT, runBinary } from "../helpers/env.ts";
import { fakeIo } from "../helpers/fake_io.ts";
import {
  type Layout,
  type LayoutWorker,
  removeLayoutBuild,
  spawnLayoutWorker,
} from "../helpers/layout_worker.ts";
import { makeProcTree, removeTree } from "../helpers/proc_tree.ts";

const L = (addr: string, perms: string, path = "", inode = "0") =>
  `${addr} ${perms} 00000000 00:00 ${inode}                          ${path}`.trimEnd();

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
