/**
 * Smoke tests of the release artifacts themselves, in the release directory
 * (release_dir.ts: a temp build, or dist/release/).
 * Run by `npm run test:release` (scripts/test_release.ts); the file name has no
 * `.test.` so the plain `bun test` run does not pick it up.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { buildCommit, RELEASE_TARGETS } from "../../scripts/build.ts";
import { isPackageFileName, MAN_PAGE_INPUT } from "../../scripts/package_meta.ts";
import { REPO } from "../helpers/env.ts";
import { RELEASE } from "./release_dir.ts";

const QEMU = "qemu-aarch64-static";
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string[], opts: { cwd?: string } = {}): Run {
  const p = Bun.spawnSync(cmd, {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function need(tool: string): void {
  if (!Bun.which(tool)) {
    throw new Error(`${tool} is missing: run 'bash scripts/test-deps.sh' as root`);
  }
}

function artifact(name: string): string {
  const path = join(RELEASE, name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run 'npm run release' first`);
  return path;
}

/** What readelf says about one ELF file. */
function elf(path: string): {
  machine: string;
  cls: string;
  interpreter: string;
  needed: string[];
} {
  need("readelf");
  const h = run(["readelf", "-h", path]);
  const l = run(["readelf", "-l", "-W", path]);
  const d = run(["readelf", "-d", "-W", path]);
  expect(h.code).toBe(0);
  return {
    cls: /Class:\s+(\S+)/.exec(h.stdout)?.[1] ?? "",
    machine: /Machine:\s+(.+)/.exec(h.stdout)?.[1]?.trim() ?? "",
    interpreter: /Requesting program interpreter: ([^\]]+)\]/.exec(l.stdout)?.[1] ?? "",
    needed: [...d.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
      (m) => m[1] ?? "",
    ),
  };
}

/** The libraries a glibc artifact may need: libc, libm, libpthread, libdl and the loader. */
const GLIBC_ALLOWED = ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2"];
const GLIBC_LABEL = "glibc only: libc, libm, libpthread, libdl and the loader";

interface Expectation {
  artifact: string;
  machine: RegExp;
  interpreter: string;
  allowedNeeded: string[];
  /** What the NEEDED test says is allowed. */
  neededLabel: string;
  /** How to run it here, or why it cannot run. */
  runner: string[] | { cannotRun: string };
}

const EXPECTED: Expectation[] = [
  {
    artifact: "vmaudit-linux-x64",
    machine: /X86-64/,
    interpreter: "/lib64/ld-linux-x86-64.so.2",
    allowedNeeded: [...GLIBC_ALLOWED, "ld-linux-x86-64.so.2"],
    neededLabel: GLIBC_LABEL,
    runner: [],
  },
  {
    artifact: "vmaudit-linux-x64-baseline",
    machine: /X86-64/,
    interpreter: "/lib64/ld-linux-x86-64.so.2",
    allowedNeeded: [...GLIBC_ALLOWED, "ld-linux-x86-64.so.2"],
    neededLabel: GLIBC_LABEL,
    runner: [],
  },
  {
    artifact: "vmaudit-linux-arm64",
    machine: /AArch64/,
    interpreter: "/lib/ld-linux-aarch64.so.1",
    allowedNeeded: [...GLIBC_ALLOWED, "ld-linux-aarch64.so.1"],
    neededLabel: GLIBC_LABEL,
    runner: [QEMU, "-L", ARM64_SYSROOT],
  },
  {
    artifact: "vmaudit-linux-x64-musl",
    machine: /X86-64/,
    interpreter: "/lib/ld-musl-x86_64.so.1",
    // musl's libc is the loader too. Bun's musl runtime also links the C++
    // runtime: on Alpine that is `apk add libstdc++` (which pulls in libgcc).
    allowedNeeded: ["libc.musl-x86_64.so.1", "libstdc++.so.6"],
    neededLabel: "musl libc and libstdc++ (Alpine: libstdc++, libgcc)",
    runner: {
      cannotRun:
        "Debian has no musl libstdc++ (Alpine packages libstdc++ and libgcc), so it is checked with readelf only",
    },
  },
];

/**
 * The SHA256SUMS lines of the binaries and the man page (the packages' lines
 * are tested in packages.release.ts).
 */
function binarySums(sums: string): string[] {
  return sums
    .trimEnd()
    .split("\n")
    .filter((l) => !isPackageFileName(l.split("  ")[1] ?? ""));
}

test("the release has exactly the four targets and the man page, in the table and in SHA256SUMS", () => {
  expect(EXPECTED.map((e) => e.artifact).sort()).toEqual(
    RELEASE_TARGETS.map((t) => t.artifact).sort(),
  );
  const lines = binarySums(readFileSync(artifact("SHA256SUMS"), "utf8"));
  expect(lines.map((l) => l.split("  ")[1]).sort()).toEqual(
    [...EXPECTED.map((e) => e.artifact), MAN_PAGE_INPUT].sort(),
  );
  for (const line of lines)
    expect(line).toMatch(/^[0-9a-f]{64} {2}(vmaudit-linux-[a-z0-9-]+|vmaudit\.1)$/);
});

test("sha256sum -c SHA256SUMS passes in the release directory", () => {
  const r = run(["sha256sum", "-c", "SHA256SUMS"], { cwd: RELEASE });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const ok = r.stdout.trim().split("\n");
  for (const t of RELEASE_TARGETS) expect(ok).toContain(`${t.artifact}: OK`);
  expect(ok).toContain(`${MAN_PAGE_INPUT}: OK`);
  for (const line of ok) expect(line).toEndWith(": OK");
});

const commit = buildCommit();
const versionLine = `vmaudit ${pkg.version} (commit ${commit})`;

for (const e of EXPECTED) {
  describe(e.artifact, () => {
    test("is a 64-bit ELF for its machine with its libc's loader", () => {
      const info = elf(artifact(e.artifact));
      expect(info.cls).toBe("ELF64");
      expect(info.machine).toMatch(e.machine);
      expect(info.interpreter).toBe(e.interpreter);
    });

    test(`needs no shared library beyond ${e.neededLabel} (readelf -d NEEDED)`, () => {
      const { needed } = elf(artifact(e.artifact));
      console.log(`${e.artifact}: NEEDED ${needed.join(", ")}`);
      expect(needed.length).toBeGreaterThan(0);
      for (const lib of needed) expect(e.allowedNeeded).toContain(lib);
    });

    test("is executable and a plausible size", () => {
      const st = statSync(artifact(e.artifact));
      console.log(`${e.artifact}: ${(st.size / 2 ** 20).toFixed(1)} MiB`);
      expect(st.mode & 0o111).toBe(0o111);
      // The Bun runtime alone is about 100 MiB; far off means a broken build.
      expect(st.size).toBeGreaterThan(60 * 2 ** 20);
      expect(st.size).toBeLessThan(200 * 2 ** 20);
    });

    const runner = e.runner;
    if (!Array.isArray(runner)) {
      test("cannot run on this machine, and says so", () => {
        console.log(`NOT RUN: ${e.artifact} cannot run on this machine: ${runner.cannotRun}`);
        expect(runner.cannotRun).not.toBe("");
      });
      return;
    }
    const exec = (args: string[]): Run => {
      if (runner[0]) need(runner[0]);
      return run([...runner, artifact(e.artifact), ...args]);
    };

    test(`--version prints the package version and the commit (${commit})`, () => {
      const r = exec(["--version"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(versionLine);
    }, 60_000);

    test("scan --json prints one JSON report", () => {
      const r = exec(["scan", "--json", "--top", "3"]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      expect(report.schemaVersion).toBe(1);
      expect(report.processCount).toBeGreaterThan(0);
      expect(report.totalVmas).toBeGreaterThan(0);
      expect(report.topProcesses.length).toBeGreaterThan(0);
      expect(report.recommendedLimit).toBeGreaterThanOrEqual(65530);
    }, 60_000);

    test(`help --man prints the release's ${MAN_PAGE_INPUT}, byte for byte`, () => {
      const r = exec(["help", "--man"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith('.\\" vmaudit(1)');
      expect(r.stdout).toBe(readFileSync(artifact(MAN_PAGE_INPUT), "utf8"));
    }, 60_000);

    test("inspect $$ runs when the command table has inspect", () => {
      const help = exec(["--help"]);
      expect(help.code).toBe(0);
      if (!/^\s+inspect\s/m.test(help.stdout)) {
        console.log(`NOT RUN: 'inspect $$' on ${e.artifact}: this build has no inspect command`);
        return;
      }
      // $$ is the shell's pid: a live process for inspect to look at.
      const r = run(["sh", "-c", '"$@" inspect $$', "sh", ...runner, artifact(e.artifact)]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }, 60_000);
  });
}

describe("reproducibility", () => {
  const again = mkdtempSync(join(tmpdir(), "vmaudit-release-again-"));
  afterAll(() => rmSync(again, { recursive: true, force: true }));
  test("a second release build of the same commit in another directory has the same SHA256SUMS (man page included)", () => {
    const r = run([
      process.execPath,
      join(REPO, "scripts", "build.ts"),
      "--release",
      "--outdir",
      again,
    ]);
    expect(r.code).toBe(0);
    const first = binarySums(readFileSync(artifact("SHA256SUMS"), "utf8"));
    const second = binarySums(readFileSync(join(again, "SHA256SUMS"), "utf8"));
    expect(second).toEqual(first);
  }, 300_000);
});
