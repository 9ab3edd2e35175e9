/**
 * install.sh against a fake release (a small shell script as the artifact),
 * so these run in the plain `bun test`: which SHA256SUMS lines it accepts
 * (the same as `sha256sum -c`, checked line by line against the real tool),
 * a directory where the binary goes, backslashes in TMPDIR and PREFIX,
 * file:// URLs with either downloader, and shellcheck. The tests with the
 * real release binaries are in test/release/install.release.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./helpers/env.ts";

const INSTALL = join(REPO, "install.sh");
const ARTIFACT = "vmaudit-linux-x64";
const FAKE_BINARY = '#!/bin/sh\necho "vmaudit 9.9.9 (commit fake)"\n';
const HASH = new Bun.CryptoHasher("sha256").update(FAKE_BINARY).digest("hex");
const WRONG = HASH.replace(/^./, HASH[0] === "0" ? "1" : "0");
const UPPER = HASH.toUpperCase();

const work = mkdtempSync(join(tmpdir(), "vmaudit-install-sh-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Pretend to be an x86-64 glibc machine with AVX2, so the artifact is vmaudit-linux-x64. */
const cpuinfo = join(work, "cpuinfo");
writeFileSync(cpuinfo, "flags\t\t: fpu sse2 avx avx2\n");
const X64 = { VMAUDIT_UNAME_M: "x86_64", VMAUDIT_LIBC: "glibc", VMAUDIT_CPUINFO: cpuinfo };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run install.sh with `sh` (dash on Debian). */
function install(args: string[], env: Record<string, string> = {}): Run {
  const p = Bun.spawnSync(["sh", INSTALL, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TMPDIR: work, ...X64, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

let n = 0;
/** A fresh directory under the work dir. */
function fresh(name: string): string {
  const dir = join(work, `${++n}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A release directory holding the fake artifact and this SHA256SUMS text. */
function fakeRelease(sums: string): string {
  const dir = fresh("release");
  writeFileSync(join(dir, ARTIFACT), FAKE_BINARY, { mode: 0o755 });
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  return dir;
}

const GOOD = `${HASH}  ${ARTIFACT}\n`;

describe("install.sh reads SHA256SUMS as sha256sum -c does", () => {
  // [what, SHA256SUMS text]; the real `sha256sum -c --ignore-missing` in the
  // release directory decides whether install.sh must accept it.
  const cases: [string, string][] = [
    ["two spaces", GOOD],
    ["binary mode '*'", `${HASH} *${ARTIFACT}\n`],
    ["one space", `${HASH} ${ARTIFACT}\n`],
    ["a tab", `${HASH}\t${ARTIFACT}\n`],
    ["upper-case hex", `${UPPER}  ${ARTIFACT}\n`],
    ["CRLF line ends", `${HASH}  vmaudit-linux-arm64\r\n${HASH}  ${ARTIFACT}\r\n`],
    ["CRLF and upper-case hex", `${UPPER}  ${ARTIFACT}\r\n`],
    ["leading blanks", ` \t${HASH}  ${ARTIFACT}\n`],
    ["a leading backslash (escaped name)", `\\${HASH}  ${ARTIFACT}\n`],
    ["./NAME", `${HASH}  ./${ARTIFACT}\n`],
    ["BSD tag form", `SHA256 (${ARTIFACT}) = ${HASH}\n`],
    ["BSD tag form, upper-case hex", `SHA256 (${ARTIFACT}) = ${UPPER}\n`],
    ["BSD tag form without a space before =", `SHA256 (${ARTIFACT})= ${HASH}\n`],
    ["no final newline", `${HASH}  ${ARTIFACT}`],
    ["other artifacts' lines around it", `${WRONG}  a\n${GOOD}${WRONG}  b\n`],
    ["a wrong hash", `${WRONG}  ${ARTIFACT}\n`],
    ["a second line for the artifact that disagrees", `${GOOD}${WRONG}  ${ARTIFACT}\n`],
    ["a trailing blank after the name", `${HASH}  ${ARTIFACT} \n`],
    ["65 hex digits", `${HASH}0  ${ARTIFACT}\n`],
    ["63 hex digits", `${HASH.slice(1)}  ${ARTIFACT}\n`],
    ["a lower-case BSD tag", `sha256 (${ARTIFACT}) = ${HASH}\n`],
    ["another algorithm's tag", `MD5 (${ARTIFACT}) = ${HASH}\n`],
    ["no line for the artifact", `${HASH}  vmaudit-linux-arm64\n`],
    ["an empty file", ""],
  ];
  const outcomes = new Set<boolean>();
  for (const [what, sums] of cases) {
    const dir = fakeRelease(sums);
    const oracle = Bun.spawnSync(["sha256sum", "-c", "--ignore-missing", "SHA256SUMS"], {
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
    });
    const accepted = oracle.exitCode === 0;
    outcomes.add(accepted);
    test(`${what}: sha256sum -c ${accepted ? "accepts" : "refuses"}, and so does install.sh`, () => {
      const prefix = fresh("prefix");
      const r = install([dir], { PREFIX: prefix });
      if (accepted) {
        expect(r.stderr).toContain(`installed ${prefix}/bin/vmaudit (${ARTIFACT}, sha256 ${HASH})`);
        expect(r.stdout).toBe("vmaudit 9.9.9 (commit fake)\n");
        expect(r.code).toBe(0);
      } else {
        expect(r.stderr).toMatch(
          /(Checksum mismatch for vmaudit-linux-x64: SHA256SUMS says [0-9a-f]{64}, the file is [0-9a-f]{64}|SHA256SUMS has no line for vmaudit-linux-x64); nothing installed\n$/,
        );
        expect(r.code).toBe(1);
        expect(existsSync(join(prefix, "bin"))).toBe(false);
      }
    });
  }
  test("the oracle both accepts and refuses lines of the table", () => {
    // A sha256sum that refused everything would make the table prove little.
    expect([...outcomes].sort()).toEqual([false, true]);
  });
});

describe("install.sh refuses a directory where the binary goes", () => {
  test("exits 1, names it, installs nothing and leaves no temporary file", () => {
    const prefix = fresh("prefix");
    const target = join(prefix, "bin", "vmaudit");
    mkdirSync(target, { recursive: true });
    const r = install([fakeRelease(GOOD)], { PREFIX: prefix });
    expect(r.stderr).toBe(
      `install.sh: Cannot install "${target}": it is a directory, expected a file or nothing; nothing installed\n`,
    );
    expect(r.code).toBe(1);
    expect(readdirSync(target)).toEqual([]);
    expect(readdirSync(join(prefix, "bin"))).toEqual(["vmaudit"]);
  });
  test("a symlink to a directory is refused the same way", () => {
    const prefix = fresh("prefix");
    const elsewhere = fresh("elsewhere");
    mkdirSync(join(prefix, "bin"));
    Bun.spawnSync(["ln", "-s", elsewhere, join(prefix, "bin", "vmaudit")]);
    const r = install([fakeRelease(GOOD)], { PREFIX: prefix });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("it is a directory");
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe("backslashes in paths", () => {
  test("a TMPDIR and a PREFIX holding \\ (and \\n) install and print the paths as they are", () => {
    const tmp = fresh("tmp\\dir\\nx");
    const prefix = fresh("pre\\fix\\n");
    const r = install([fakeRelease(GOOD)], { TMPDIR: tmp, PREFIX: prefix });
    expect(r.stderr).toContain(`installed ${prefix}/bin/vmaudit (${ARTIFACT}, sha256 ${HASH})\n`);
    expect(r.code).toBe(0);
    expect(existsSync(join(prefix, "bin", "vmaudit"))).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("file:// URLs", () => {
  for (const fetch of ["curl", "wget"]) {
    test(`VMAUDIT_FETCH=${fetch} with file:///PATH installs from PATH`, () => {
      const dir = fakeRelease(GOOD);
      const prefix = fresh("prefix");
      const r = install([`file://${dir}/`], { PREFIX: prefix, VMAUDIT_FETCH: fetch });
      expect(r.stderr).toContain(`installed ${prefix}/bin/vmaudit`);
      expect(r.code).toBe(0);
    });
  }
  test("file://localhost/PATH is the same directory", () => {
    const prefix = fresh("prefix");
    const r = install([`file://localhost${fakeRelease(GOOD)}`], {
      PREFIX: prefix,
      VMAUDIT_FETCH: "wget",
    });
    expect(r.code).toBe(0);
  });
  const refused: [string, (dir: string) => string, RegExp][] = [
    [
      "another host",
      (dir) => `file://example.org${dir}`,
      /Cannot read "file:\/\/example\.org\/.*": expected file:\/\/\/PATH, a directory on this machine/,
    ],
    [
      "percent-escapes",
      (dir) => `file://${dir}/my%20release`,
      /Cannot read "file:\/\/.*%20release": percent-escapes in file:\/\/ URLs are not supported; give the directory itself/,
    ],
    [
      "a missing directory",
      (dir) => `file://${dir}/nope`,
      /Cannot find ".*\/nope\/SHA256SUMS": expected a release directory with SHA256SUMS/,
    ],
  ];
  for (const [what, url, message] of refused) {
    test(`${what} is refused in one line`, () => {
      const prefix = fresh("prefix");
      const r = install([url(fakeRelease(GOOD))], { PREFIX: prefix, VMAUDIT_FETCH: "wget" });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n").at(-1)).toMatch(message);
      expect(existsSync(join(prefix, "bin"))).toBe(false);
    });
  }
});

test("shellcheck finds nothing in install.sh (as POSIX sh)", () => {
  if (!Bun.which("shellcheck")) {
    throw new Error("shellcheck is missing: run 'bash scripts/test-deps.sh' as root");
  }
  const p = Bun.spawnSync(["shellcheck", "--shell=sh", "--severity=style", INSTALL], {
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(p.stdout.toString() + p.stderr.toString()).toBe("");
  expect(p.exitCode).toBe(0);
});
