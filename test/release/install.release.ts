/**
 * install.sh against the local release (release_dir.ts; from a directory and
 * from a URL), and its refusals. Run by `npm run test:release`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { REPO } from "../helpers/env.ts";
import { RELEASE } from "./release_dir.ts";

const INSTALL = join(REPO, "install.sh");
const work = mkdtempSync(join(tmpdir(), "vmaudit-install-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CPU_AVX2 = join(work, "cpuinfo-avx2");
const CPU_OLD = join(work, "cpuinfo-old");
writeFileSync(CPU_AVX2, "flags\t\t: fpu sse2 ssse3 sse4_1 sse4_2 avx avx2 bmi2\n");
writeFileSync(CPU_OLD, "flags\t\t: fpu sse2 ssse3 sse4_1 sse4_2 avx\n");

/** Pretend to be an x86-64 glibc machine with AVX2, so the pick is fixed. */
const X64_GLIBC = { VMAUDIT_UNAME_M: "x86_64", VMAUDIT_LIBC: "glibc", VMAUDIT_CPUINFO: CPU_AVX2 };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run install.sh with `sh` (dash on Debian, so bashisms fail here). Async, so a test server can answer. */
async function install(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const p = Bun.spawn(["sh", INSTALL, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: work, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

let n = 0;
function freshPrefix(): string {
  const prefix = join(work, `prefix-${++n}`);
  mkdirSync(prefix);
  return prefix;
}

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** A copy of the release with only SHA256SUMS and the x64 artifact. */
function releaseCopy(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const f of ["SHA256SUMS", "vmaudit-linux-x64"]) copyFileSync(join(RELEASE, f), join(dir, f));
  return dir;
}

test("install.sh passes sh -n and dash -n", () => {
  for (const shell of ["sh", "dash", "bash"]) {
    if (!Bun.which(shell)) continue;
    const p = Bun.spawnSync([shell, "-n", INSTALL], { stderr: "pipe" });
    expect(p.stderr.toString()).toBe("");
    expect(p.exitCode).toBe(0);
  }
});

describe("install.sh picks the artifact", () => {
  const cases: [string, Record<string, string>, string | RegExp][] = [
    ["x86_64, glibc, AVX2", { ...X64_GLIBC }, "vmaudit-linux-x64"],
    [
      "x86_64, glibc, no AVX2",
      { ...X64_GLIBC, VMAUDIT_CPUINFO: CPU_OLD },
      "vmaudit-linux-x64-baseline",
    ],
    ["amd64 is x86_64", { ...X64_GLIBC, VMAUDIT_UNAME_M: "amd64" }, "vmaudit-linux-x64"],
    ["x86_64, musl", { ...X64_GLIBC, VMAUDIT_LIBC: "musl" }, "vmaudit-linux-x64-musl"],
    [
      "x86_64, musl, no AVX2",
      { ...X64_GLIBC, VMAUDIT_LIBC: "musl", VMAUDIT_CPUINFO: CPU_OLD },
      "vmaudit-linux-x64-musl",
    ],
    ["aarch64, glibc", { ...X64_GLIBC, VMAUDIT_UNAME_M: "aarch64" }, "vmaudit-linux-arm64"],
    ["arm64 is aarch64", { ...X64_GLIBC, VMAUDIT_UNAME_M: "arm64" }, "vmaudit-linux-arm64"],
    [
      "aarch64, musl is refused",
      { ...X64_GLIBC, VMAUDIT_UNAME_M: "aarch64", VMAUDIT_LIBC: "musl" },
      /No release for aarch64 with musl/,
    ],
    [
      "riscv64 is refused",
      { ...X64_GLIBC, VMAUDIT_UNAME_M: "riscv64" },
      /Unsupported CPU "riscv64": expected x86_64 or aarch64/,
    ],
    [
      "an unknown libc is refused",
      { ...X64_GLIBC, VMAUDIT_LIBC: "bionic" },
      /Unknown VMAUDIT_LIBC "bionic"/,
    ],
  ];
  for (const [name, env, expected] of cases) {
    test(`${name}: ${expected}`, async () => {
      const r = await install(["--print-artifact"], env);
      if (typeof expected === "string") {
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe(expected);
      } else {
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(expected);
      }
    });
  }

  test("this machine, undisguised, gets the artifact its CPU and libc call for", async () => {
    const avx2 = /\bavx2\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
    const expected =
      process.arch === "arm64"
        ? "vmaudit-linux-arm64"
        : avx2
          ? "vmaudit-linux-x64"
          : "vmaudit-linux-x64-baseline";
    const r = await install(["--print-artifact"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(expected);
  });
});

describe("install.sh installs", () => {
  test("from the release directory into PREFIX/bin, verified and runnable", async () => {
    const prefix = freshPrefix();
    const r = await install([RELEASE], { ...X64_GLIBC, PREFIX: prefix });
    expect(r.code).toBe(0);
    const bin = join(prefix, "bin", "vmaudit");
    expect(sha256(bin)).toBe(sha256(join(RELEASE, "vmaudit-linux-x64")));
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    expect(r.stdout.trim()).toMatch(
      new RegExp(`^vmaudit ${pkg.version.replace(/\./g, "\\.")} \\(commit `),
    );
    expect(readdirSync(join(prefix, "bin"))).toEqual(["vmaudit"]);
  }, 60_000);

  test("under DESTDIR + PREFIX", async () => {
    const dest = freshPrefix();
    const r = await install([RELEASE], { ...X64_GLIBC, DESTDIR: dest, PREFIX: "/opt/vm" });
    expect(r.code).toBe(0);
    expect(existsSync(join(dest, "opt", "vm", "bin", "vmaudit"))).toBe(true);
  }, 60_000);

  for (const tool of ["curl", "wget"]) {
    test(`from a URL with ${tool}`, async () => {
      if (!Bun.which(tool)) {
        console.log(`NOT RUN: install.sh from a URL with ${tool}: ${tool} is not installed`);
        return;
      }
      const server = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        fetch(req) {
          const name = new URL(req.url).pathname.replace(/^\/rel\//, "");
          const path = join(RELEASE, name);
          if (name.includes("/") || !existsSync(path))
            return new Response("not found", { status: 404 });
          return new Response(Bun.file(path));
        },
      });
      try {
        const prefix = freshPrefix();
        const url = `http://127.0.0.1:${server.port}/rel`;
        const r = await install([url], { ...X64_GLIBC, PREFIX: prefix, VMAUDIT_FETCH: tool });
        expect(r.stderr).toContain(`installed ${prefix}/bin/vmaudit`);
        expect(r.code).toBe(0);
        expect(sha256(join(prefix, "bin", "vmaudit"))).toBe(
          sha256(join(RELEASE, "vmaudit-linux-x64")),
        );
      } finally {
        server.stop(true);
      }
    }, 60_000);
  }
});

describe("install.sh refuses", () => {
  test("a tampered artifact, installs nothing and leaves an existing vmaudit as it was", async () => {
    const dir = releaseCopy("tampered");
    const file = join(dir, "vmaudit-linux-x64");
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);

    const fresh = freshPrefix();
    const r = await install([dir], { ...X64_GLIBC, PREFIX: fresh });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Checksum mismatch for vmaudit-linux-x64: .*nothing installed/);
    expect(existsSync(join(fresh, "bin", "vmaudit"))).toBe(false);
    expect(existsSync(join(fresh, "bin")) ? readdirSync(join(fresh, "bin")) : []).toEqual([]);

    const existing = freshPrefix();
    mkdirSync(join(existing, "bin"));
    writeFileSync(join(existing, "bin", "vmaudit"), "old vmaudit\n");
    const again = await install([dir], { ...X64_GLIBC, PREFIX: existing });
    expect(again.code).toBe(1);
    expect(readFileSync(join(existing, "bin", "vmaudit"), "utf8")).toBe("old vmaudit\n");
    expect(readdirSync(join(existing, "bin"))).toEqual(["vmaudit"]);
    // Its own temp directory is gone too.
    expect(readdirSync(work).filter((f) => f.startsWith("vmaudit-install."))).toEqual([]);
  }, 60_000);

  test("a release whose SHA256SUMS has no line for the artifact", async () => {
    const dir = releaseCopy("nosum");
    writeFileSync(join(dir, "SHA256SUMS"), `${"0".repeat(64)}  vmaudit-linux-arm64\n`);
    const prefix = freshPrefix();
    const r = await install([dir], { ...X64_GLIBC, PREFIX: prefix });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SHA256SUMS has no line for vmaudit-linux-x64; nothing installed");
    expect(existsSync(join(prefix, "bin"))).toBe(false);
  });

  test("a directory without the artifact", async () => {
    const dir = join(work, "empty");
    mkdirSync(dir);
    writeFileSync(join(dir, "SHA256SUMS"), "");
    const r = await install([dir], { ...X64_GLIBC, PREFIX: freshPrefix() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot find "${dir}/vmaudit-linux-x64"`);
  });

  test("a missing source and an unknown option", async () => {
    const missing = await install([], X64_GLIBC);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Missing the release");
    const unknown = await install(["--bogus"], X64_GLIBC);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Unknown option "--bogus"');
  });
});
