/**
 * End-to-end: the compiled binary against the real kernel.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellQuote } from "../../src/cli/command_line.ts";
import { countVmas } from "../../src/core/vma_counter.ts";
import { bundleForAnyUser } from "../helpers/bundle.ts";
import { binary, REPO, rootTest, runBinary } from "../helpers/env.ts";
import { type Holder, spawnHolder } from "../helpers/holder.ts";

const EXTRA = 5000;
/**
 * The holder's argv[0], which names its application. Short and fixed, so the
 * tests do not depend on where the checkout is (the script path in argv[1] is
 * as long as the checkout path).
 */
const HOLDER_NAME = "e2e-vma-holder";
let holder: Holder;

beforeAll(async () => {
  holder = await spawnHolder(EXTRA, { argv0: HOLDER_NAME });
});
afterAll(async () => {
  await holder?.stop();
});

/** The child's map_count, read independently of vmaudit: lines minus [vsyscall]. */
function kernelCount(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/maps`, "utf8")
    .split("\n")
    .filter((l) => l !== "");
  return lines.length - (lines.at(-1)?.endsWith("[vsyscall]") ? 1 : 0);
}

describe("vmaudit scan (compiled binary, real /proc)", () => {
  test("--json prints one JSON document with the schema version and the live limit", () => {
    const r = runBinary(["scan", "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.schemaVersion).toBe(1);
    expect(report.maxMapCount).toBe(Number(readFileSync("/proc/sys/vm/max_map_count", "utf8")));
    expect(report.coverage.scanned).toBeGreaterThan(0);
    expect(report.limitScope).toBe("per-process");
    expect(r.stdout).not.toContain("\x1b[");
  });

  test("finds the child with exactly the count the kernel reports", () => {
    // The child is idle, so its count is stable; read it before and after.
    const before = kernelCount(holder.pid);
    const r = runBinary(["scan", "--json", "--top", "1000"]);
    const after = kernelCount(holder.pid);
    expect(before).toBe(after);
    const row = JSON.parse(r.stdout).topProcesses.find(
      (p: { pid: number }) => p.pid === holder.pid,
    );
    expect(row).toBeDefined();
    expect(row.vmas).toBe(before);
    // The maps text, counted by the same pure counter, agrees too.
    expect(countVmas(readFileSync(`/proc/${holder.pid}/maps`))).toBe(before);
    // And it holds our mappings on top of the runtime's own.
    expect(row.vmas).toBeGreaterThan(EXTRA);
    expect(row.argv.at(-1)).toBe(String(EXTRA));
  });

  test("the text report has the child's row (pid, exact count, name) and explains the per-process limit", () => {
    const vmas = kernelCount(holder.pid);
    const r = runBinary(["scan", "--top", "1000"]);
    expect(r.code).toBe(0);
    // Find the row by its whole words, never by text a column could cut: the
    // pid, the count (with or without thousands separators) and argv[0].
    const rows = r.stdout.split("\n").map((line) => line.trim().split(/\s+/));
    const row = rows.find((w) => w.includes(String(holder.pid)) && w.includes(HOLDER_NAME));
    expect(row).toBeDefined();
    expect(row?.map((w) => w.replace(/[,\u202f]/g, ""))).toContain(String(vmas));
    expect(r.stdout).toMatch(/not a system-wide total/);
    expect(r.stdout).toMatch(/may contain secrets|can contain secrets/);
    expect(r.stdout).not.toContain("\x1b["); // NO_COLOR and a pipe
  });

  test("on a terminal the report is coloured, and NO_COLOR turns it off", () => {
    // script(1) gives the binary a pseudo-terminal as stdout.
    const onTty = (env: Record<string, string>) =>
      Bun.spawnSync(["script", "-qec", `${shellQuote(binary())} scan --top 1`, "/dev/null"], {
        env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "", TERM: "xterm", ...env },
        stdout: "pipe",
      }).stdout.toString();
    expect(onTty({})).toContain("\x1b[");
    expect(onTty({ NO_COLOR: "1" })).not.toContain("\x1b[");
  });

  test("FORCE_COLOR colours the free percent", () => {
    const r = runBinary(["scan"], { env: { NO_COLOR: "", FORCE_COLOR: "1" } });
    const ESC = String.fromCharCode(27);
    expect(r.stdout).toMatch(new RegExp(`${ESC}\\[32m\\d+\\.\\d%${ESC}\\[39m`));
  });
});

describe("exit codes of the compiled binary", () => {
  const cases: [string[], number, RegExp][] = [
    [["scan", "--top", "abc"], 2, /Cannot parse --top "abc": expected a positive integer/],
    [["scan", "--top", "-1"], 2, /--top "-1"/],
    [["scan", "--headroom", "1.1"], 2, /--headroom "1.1": expected at least 1.2/],
    [["scan", "--vma", "0"], 2, /--vma "0"/],
    [["scan", "--vma", "1e99"], 2, /--vma "1e99"/],
    [["scan", "--frobnicate"], 2, /Unknown option "--frobnicate"/],
    [["frobnicate"], 2, /Unknown command "frobnicate"/],
    [["scan", "--procfs", "/does/not/exist"], 1, /Cannot scan "\/does\/not\/exist"/],
    [["scan", "--procfs", "/usr"], 1, /not a proc tree/],
  ];
  for (const [args, code, message] of cases) {
    test(`vmaudit ${args.join(" ")} exits ${code}`, () => {
      const r = runBinary(args);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toMatch(/internal error/);
    });
  }
  test("--version and --help exit 0", () => {
    expect(runBinary(["--version"]).stdout).toMatch(/^vmaudit \d+\.\d+\.\d+/);
    expect(runBinary(["scan", "--help"]).code).toBe(0);
  });
});

describe("Wine or a native program named .exe, on real processes (compiled binary)", () => {
  // Copies of sleep(1): one named like npm's native bun.exe, one named like
  // Wine's loader and started with a Wine-style argv[0].
  const dir = mkdtempSync(join(tmpdir(), "vmaudit-wine-"));
  const sleep = Bun.which("sleep") ?? "/bin/sleep";
  const native = join(dir, "bun.exe");
  const loader = join(dir, "wine64-preloader");
  copyFileSync(sleep, native);
  copyFileSync(sleep, loader);
  const children: ReturnType<typeof Bun.spawn>[] = [];
  afterAll(async () => {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => c.exited));
    rmSync(dir, { recursive: true, force: true });
  });
  // [what, command, argv[0], expected appKind]
  const cases: [string, string, string | undefined, string][] = [
    ["a native binary named bun.exe", native, undefined, "plain"],
    ["game.exe whose /proc/PID/exe is wine64-preloader", loader, "game.exe", "wine"],
    ["a native binary with a Windows-path argv[0]", sleep, "C:\\Games\\game.exe", "wine"],
  ];
  const pids = cases.map(([, cmd, argv0]) => {
    const c = Bun.spawn([cmd, "60"], argv0 === undefined ? {} : { argv0 });
    children.push(c);
    return c.pid;
  });

  test(`scan --json gives each its kind (${cases.length} cases)`, async () => {
    await Bun.sleep(50); // let each exec(2) finish, so cmdline and exe are the new program's
    const r = runBinary(["scan", "--json", "--top", "10000"]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout).topProcesses as { pid: number; appKind: string }[];
    const kinds = pids.map((pid) => rows.find((p) => p.pid === pid)?.appKind);
    expect(kinds).toEqual(cases.map((c) => c[3]));
  });

  test("inspect --json agrees", () => {
    const kinds = pids.map(
      (pid) => JSON.parse(runBinary(["inspect", String(pid), "--json"]).stdout).appKind,
    );
    expect(kinds).toEqual(cases.map((c) => c[3]));
  });

  rootTest(
    "readExe() is undefined, not an error, for a process the user may not trace (EACCES)",
    async () => {
      const mod = await bundleForAnyUser(join(REPO, "src", "proc", "process.ts"), dir);
      const script = `const { readExe } = await import(${JSON.stringify(mod)});
console.log(JSON.stringify([readExe("/proc", 1) ?? null, readExe("/proc", process.pid) === process.execPath]));`;
      const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
      const p = Bun.spawnSync([...nobody, process.execPath, "-e", script], {
        stdout: "pipe",
        stderr: "pipe",
        cwd: "/",
      });
      expect(p.stderr.toString()).toBe("");
      expect(JSON.parse(p.stdout.toString())).toEqual([null, true]);
    },
  );
});
