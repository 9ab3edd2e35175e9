/**
 * The package layout and texts (scripts/package_meta.ts), without building a
 * package: versions, file names, changelogs read back by dpkg-parsechangelog,
 * the control file, the file table. The packages themselves are tested in
 * test/release/packages.release.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { updateSums } from "../../scripts/package.ts";
import {
  changelogUpTo,
  completionPath,
  debControl,
  debFileName,
  debianChangelog,
  fillTemplate,
  helpCommands,
  isPackageFileName,
  MAN_PAGE_INPUT,
  newestGlibc,
  PACKAGE_ARCHES,
  PackagingError,
  packageFileNames,
  packageFiles,
  packageVersion,
  parseChangelog,
  rpmChangelog,
  rpmFileName,
  shippedUnits,
  wrapWords,
} from "../../scripts/package_meta.ts";
import { REPO, runBinary } from "../helpers/env.ts";

const dir = mkdtempSync(join(tmpdir(), "vmaudit-package-meta-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("packageVersion", () => {
  const cases: [string, string][] = [
    ["0.1.0", "0.1.0"],
    ["12.3.45", "12.3.45"],
    ["1.0.0-rc.1", "1.0.0~rc.1"],
    ["2.0.0-beta", "2.0.0~beta"],
  ];
  for (const [semver, expected] of cases) {
    test(`packageVersion("${semver}") is "${expected}"`, () => {
      expect(packageVersion(semver)).toBe(expected);
    });
  }
  for (const bad of ["1.0", "v1.0.0", "1.0.0-", "1.0.0-rc 1", "1.0.0+build"]) {
    test(`packageVersion("${bad}") is refused`, () => {
      expect(() => packageVersion(bad)).toThrow(
        new PackagingError(
          `Cannot package version "${bad}": expected MAJOR.MINOR.PATCH[-PRERELEASE]`,
        ),
      );
    });
  }

  test("a pre-release sorts before its release in dpkg (dpkg --compare-versions)", () => {
    const r = Bun.spawnSync([
      "dpkg",
      "--compare-versions",
      packageVersion("1.0.0-rc.1"),
      "lt",
      packageVersion("1.0.0"),
    ]);
    expect(r.exitCode).toBe(0);
  });

  test("a pre-release sorts before its release in rpm (rpm --eval rpm.vercmp)", () => {
    const lua = `%{lua: print(rpm.vercmp("${packageVersion("1.0.0-rc.1")}", "1.0.0"))}`;
    const r = Bun.spawnSync(["rpm", "--eval", lua], { stdout: "pipe" });
    expect(r.stdout.toString().trim()).toBe("-1");
  });
});

test("the file names follow the Debian and rpm conventions", () => {
  expect(debFileName("0.1.0", "amd64")).toBe("vmaudit_0.1.0_amd64.deb");
  expect(rpmFileName("0.1.0", "aarch64")).toBe("vmaudit-0.1.0-1.aarch64.rpm");
  expect(packageFileNames("0.1.0")).toEqual([
    "vmaudit_0.1.0_amd64.deb",
    "vmaudit_0.1.0_arm64.deb",
    "vmaudit-0.1.0-1.x86_64.rpm",
    "vmaudit-0.1.0-1.aarch64.rpm",
  ]);
  for (const name of packageFileNames("3.2.1-rc.2")) expect(isPackageFileName(name)).toBe(true);
  for (const name of [
    "vmaudit-linux-x64",
    "SHA256SUMS",
    "install.sh",
    "vmaudit_0.1.0_amd64.deb.tmp",
  ])
    expect(isPackageFileName(name)).toBe(false);
});

describe("CHANGELOG.md", () => {
  const md = readFileSync(join(REPO, "CHANGELOG.md"), "utf8");

  test(`has a section for package.json's version ${pkg.version}, with items`, () => {
    const entries = changelogUpTo(parseChangelog(md), pkg.version);
    expect(entries[0]?.version).toBe(pkg.version);
    expect(entries[0]?.items.length).toBeGreaterThan(0);
  });

  test("a version without a section, a bad date and a bad heading are refused", () => {
    expect(() => changelogUpTo(parseChangelog(md), "9.9.9")).toThrow(
      'CHANGELOG.md has no "## 9.9.9 - YYYY-MM-DD" section',
    );
    expect(() => changelogUpTo(parseChangelog("## 1.0.0 - 2026-01-02\n"), "1.0.0")).toThrow(
      'no "- " item',
    );
    expect(() => parseChangelog("## 1.0.0 - 2026-13-45\n- x\n")).toThrow(
      'Cannot read CHANGELOG.md date "2026-13-45"',
    );
    expect(() => parseChangelog("## 1.0.0 (2026-01-02)\n- x\n")).toThrow(
      "Cannot read CHANGELOG.md heading",
    );
  });

  test("items may continue on indented lines, and older sections follow", () => {
    const entries = parseChangelog(
      "# Changelog\n\n## 0.2.0 - 2026-02-03\n\n- one\n  more\n- two\n\n## 0.1.0 - 2026-01-02\n\n- first\n",
    );
    expect(entries).toEqual([
      { version: "0.2.0", date: "2026-02-03", items: ["one more", "two"] },
      { version: "0.1.0", date: "2026-01-02", items: ["first"] },
    ]);
    expect(changelogUpTo(entries, "0.1.0").map((e) => e.version)).toEqual(["0.1.0"]);
  });
});

describe("debianChangelog", () => {
  const entries = [
    {
      version: "0.2.0-rc.1",
      date: "2026-02-03",
      items: [`${"A long change that needs more than one line ".repeat(3)}end.`, "Short."],
    },
    { version: "0.1.0", date: "2026-01-02", items: ["First."] },
  ];
  const text = debianChangelog(entries);

  test("dpkg-parsechangelog reads every entry, with version, date and maintainer", () => {
    const file = join(dir, "changelog");
    writeFileSync(file, text);
    const r = Bun.spawnSync(["dpkg-parsechangelog", "-l", file, "--all"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain("Version: 0.2.0~rc.1");
    expect(out).toContain("Date: Tue, 03 Feb 2026 00:00:00 +0000");
    expect(out).toContain("Maintainer: vmaudit maintainers");
    // Both entries, in order.
    expect(out.indexOf("vmaudit (0.2.0~rc.1)")).toBeLessThan(out.indexOf("vmaudit (0.1.0)"));
  });

  test("no change line is longer than 80 columns (lintian's limit; the trailer line cannot wrap)", () => {
    const changes = text.split("\n").filter((l) => l.startsWith("  "));
    expect(changes.length).toBeGreaterThan(3);
    for (const line of changes) expect(line.length).toBeLessThanOrEqual(80);
  });

  test("the date's weekday is right (Fri, 02 Jan 2026)", () => {
    expect(text).toContain("Fri, 02 Jan 2026 00:00:00 +0000");
  });
});

test("rpmChangelog writes rpm's header lines, escapes % and names the rpm release", () => {
  const text = rpmChangelog([{ version: "0.1.0", date: "2026-11-26", items: ["Up 5% faster."] }]);
  expect(text).toBe(
    "* Thu Nov 26 2026 vmaudit maintainers <maintainers@vmaudit.invalid> - 0.1.0-1\n- Up 5%% faster.\n",
  );
});

test("wrapWords keeps lines within the width and words whole", () => {
  expect(wrapWords("aa bb cc dd", 5)).toEqual(["aa bb", "cc dd"]);
  expect(wrapWords("averyveryverylongword x", 5)).toEqual(["averyveryverylongword", "x"]);
  expect(wrapWords("  ", 5)).toEqual([]);
});

test("debControl is a control paragraph dpkg-deb accepts field by field", () => {
  const control = debControl({
    version: "0.1.0",
    arch: "arm64",
    installedSizeKiB: 42,
    glibc: "2.17",
  });
  const lines = control.trimEnd().split("\n");
  expect(lines.slice(0, 9)).toEqual([
    "Package: vmaudit",
    "Version: 0.1.0",
    "Architecture: arm64",
    "Maintainer: vmaudit maintainers <maintainers@vmaudit.invalid>",
    "Installed-Size: 42",
    "Depends: libc6 (>= 2.17)",
    "Section: admin",
    "Priority: optional",
    "Description: count the VMAs of every process and size vm.max_map_count",
  ]);
  // The long description: continuation lines start with a space, "." separates paragraphs.
  for (const line of lines.slice(9)) expect(line).toMatch(/^ \S/);
  expect(lines).toContain(" .");
  for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
});

test("helpCommands reads the commands of the real vmaudit --help", () => {
  const r = runBinary(["--help"]);
  expect(r.code).toBe(0);
  const commands = helpCommands(r.stdout);
  expect(commands).toContain("scan");
  expect(commands).toContain("completions");
  // Global options are not commands.
  expect(commands).not.toContain("-h,");
  expect(
    helpCommands("Usage: x\n\nCommands:\n  a  one\n  b  two\n\nGlobal options:\n  -h\n"),
  ).toEqual(["a", "b"]);
});

test("newestGlibc compares versions numerically", () => {
  expect(newestGlibc("GLIBC_2.2.5 GLIBC_2.17 GLIBC_2.3 GLIBC_2.9")).toBe("2.17");
  expect(newestGlibc("nothing")).toBeUndefined();
});

test("fillTemplate refuses a placeholder without a value and a value without a placeholder", () => {
  expect(fillTemplate("a @X@ b @X@", { X: "1" })).toBe("a 1 b 1");
  expect(() => fillTemplate("@X@ @Y@", { X: "1" })).toThrow("@Y@ has no value");
  expect(() => fillTemplate("@X@", { X: "1", Z: "2" })).toThrow("no @Z@ placeholder");
});

describe("packageFiles", () => {
  const plain = { manPage: false };
  const paths = (family: "deb" | "rpm", opts = plain) =>
    packageFiles(family, opts).map((f) => f.path);

  test("the .deb: binary, completions, units, docs, copyright, changelog, lintian overrides", () => {
    expect(paths("deb")).toEqual([
      "/usr/bin/vmaudit",
      "/usr/lib/systemd/system/vmaudit-exporter.service",
      "/usr/lib/systemd/system/vmaudit-textfile.service",
      "/usr/lib/systemd/system/vmaudit-textfile.timer",
      "/usr/share/bash-completion/completions/vmaudit",
      "/usr/share/doc/vmaudit/README.md",
      "/usr/share/doc/vmaudit/changelog.gz",
      "/usr/share/doc/vmaudit/copyright",
      "/usr/share/fish/vendor_completions.d/vmaudit.fish",
      "/usr/share/lintian/overrides/vmaudit",
      "/usr/share/zsh/vendor-completions/_vmaudit",
    ]);
  });

  test("the .rpm: zsh in site-functions, the licence text instead of Debian's files", () => {
    expect(paths("rpm")).toEqual([
      "/usr/bin/vmaudit",
      "/usr/lib/systemd/system/vmaudit-exporter.service",
      "/usr/lib/systemd/system/vmaudit-textfile.service",
      "/usr/lib/systemd/system/vmaudit-textfile.timer",
      "/usr/share/bash-completion/completions/vmaudit",
      "/usr/share/doc/vmaudit/README.md",
      "/usr/share/fish/vendor_completions.d/vmaudit.fish",
      "/usr/share/licenses/vmaudit/LICENSE",
      "/usr/share/zsh/site-functions/_vmaudit",
    ]);
    expect(packageFiles("rpm", plain).find((f) => f.license)?.path).toBe(
      "/usr/share/licenses/vmaudit/LICENSE",
    );
  });

  test("only the binary is executable", () => {
    for (const family of ["deb", "rpm"] as const) {
      for (const f of packageFiles(family, plain)) {
        expect([f.path, f.mode]).toEqual([f.path, f.path === "/usr/bin/vmaudit" ? 0o755 : 0o644]);
      }
    }
  });

  test("a man page input adds vmaudit.1.gz", () => {
    expect(paths("deb", { manPage: true })).toContain("/usr/share/man/man1/vmaudit.1.gz");
    expect(paths("deb")).not.toContain("/usr/share/man/man1/vmaudit.1.gz");
  });

  test("every unit ships", () => {
    expect(shippedUnits().map((u) => u.name)).toEqual([
      "vmaudit-exporter.service",
      "vmaudit-textfile.service",
      "vmaudit-textfile.timer",
    ]);
  });

  test("zsh's folder differs by family; bash and fish do not", () => {
    expect(completionPath("deb", "zsh")).not.toBe(completionPath("rpm", "zsh"));
    expect(completionPath("deb", "bash")).toBe(completionPath("rpm", "bash"));
    expect(completionPath("deb", "fish")).toBe(completionPath("rpm", "fish"));
  });
});

test("updateSums keeps the binaries' lines, replaces the packages' and drops stale ones", () => {
  const old = [
    `${"a".repeat(64)}  vmaudit-linux-x64`,
    `${"b".repeat(64)}  vmaudit_0.0.9_amd64.deb`,
    `${"c".repeat(64)}  vmaudit-linux-arm64`,
    "",
  ].join("\n");
  expect(updateSums(old, [["vmaudit_0.1.0_amd64.deb", "d".repeat(64)]])).toBe(
    [
      `${"a".repeat(64)}  vmaudit-linux-x64`,
      `${"c".repeat(64)}  vmaudit-linux-arm64`,
      `${"d".repeat(64)}  vmaudit_0.1.0_amd64.deb`,
      "",
    ].join("\n"),
  );
});

describe("npm run package refuses, in one line, exit 1, writing nothing", () => {
  /**
   * A fake release directory whose binaries are shell scripts printing
   * `version`, `help` and, for `help --man`, "page"; with `man`, a vmaudit.1.
   */
  function fakeRelease(name: string, version: string, help: string, man?: string): string {
    const release = join(dir, name);
    mkdirSync(release);
    const script = `#!/bin/sh\ncase "$1" in\n--version) echo '${version}' ;;\n--help) printf '%s\\n' '${help.replaceAll("\n", "' '")}' ;;\nhelp) echo page ;;\nesac\n`;
    if (man !== undefined) writeFileSync(join(release, MAN_PAGE_INPUT), man);
    for (const a of PACKAGE_ARCHES) {
      writeFileSync(join(release, a.artifact), script);
      chmodSync(join(release, a.artifact), 0o755);
    }
    writeFileSync(join(release, "SHA256SUMS"), "sums\n");
    return release;
  }
  const pack = (args: string[]) => {
    const p = Bun.spawnSync([process.execPath, join(REPO, "scripts", "package.ts"), ...args], {
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  };
  const HELP =
    "Usage: vmaudit\n\nCommands:\n  scan  x\n  exporter  z\n  completions  y\n\nGlobal options:\n  -h";

  test("a release directory without the binaries", () => {
    const r = pack(["--dir", join(dir, "nothing-here")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^package: Cannot find ".*": run npm run release first\n$/);
  });

  test("binaries of another version", () => {
    const release = fakeRelease("other-version", "vmaudit 9.9.9 (commit abc)", HELP);
    const r = pack(["--dir", release]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `package: Cannot package "vmaudit 9.9.9 (commit abc)" as ${pkg.version}: rebuild the release (npm run release)\n`,
    );
    expect(readFileSync(join(release, "SHA256SUMS"), "utf8")).toBe("sums\n");
  });

  test("a binary without the exporter command, which the packaged unit runs", () => {
    const release = fakeRelease(
      "without-exporter",
      `vmaudit ${pkg.version} (commit abc)`,
      HELP.replace("  exporter  z\n", ""),
    );
    const r = pack(["--dir", release]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^package: Cannot package .*: its --help lists no exporter command \(the units and completions run them\); got scan, completions\n$/,
    );
    expect(readdirSync(release).sort()).toEqual(
      ["SHA256SUMS", ...PACKAGE_ARCHES.map((a) => a.artifact)].sort(),
    );
  });

  test(`a release without its ${MAN_PAGE_INPUT}`, () => {
    const release = fakeRelease("no-man", `vmaudit ${pkg.version} (commit abc)`, HELP);
    const r = pack(["--dir", release]);
    expect(r.stderr).toBe(
      `package: Cannot find "${join(release, MAN_PAGE_INPUT)}": run npm run release first\n`,
    );
    expect(r.code).toBe(1);
    expect(readdirSync(release).sort()).toEqual(
      ["SHA256SUMS", ...PACKAGE_ARCHES.map((a) => a.artifact)].sort(),
    );
  });

  test(`a ${MAN_PAGE_INPUT} that is not what the binary's help --man prints`, () => {
    const version = `vmaudit ${pkg.version} (commit abc)`;
    const release = fakeRelease("other-man", version, HELP, "another page\n");
    const r = pack(["--dir", release]);
    expect(r.stderr).toMatch(
      /^package: Cannot pack ".*\/other-man\/vmaudit\.1": it is not what .* help --man prints/,
    );
    expect(r.code).toBe(1);
    expect(readFileSync(join(release, "SHA256SUMS"), "utf8")).toBe("sums\n");
    // The same release with the page its binary prints gets past this check.
    const same = fakeRelease("same-man", version, HELP, "page\n");
    expect(pack(["--dir", same]).stderr).not.toContain(MAN_PAGE_INPUT);
  });

  test("an unknown argument exits 2", () => {
    const r = pack(["--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('package: Unknown argument "--bogus": expected --dir DIR or --fast\n');
  });
});
