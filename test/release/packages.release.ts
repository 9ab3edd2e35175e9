/**
 * The .deb and .rpm packages in the release directory (release_dir.ts), read
 * by the tools that define them: dpkg-deb, lintian, dpkg-parsechangelog, rpm,
 * rpmlint. Installing the .deb on this machine is
 * test/release/deb_install.release.ts. Run by `npm run test:release`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { RELEASE_TARGETS } from "../../scripts/build.ts";
import { sourceDateEpoch } from "../../scripts/package.ts";
import {
  completionPath,
  debFileName,
  EXPORTER_PORT,
  helpCommands,
  installedUnitText,
  isPackageFileName,
  MAN_PAGE_INPUT,
  PACKAGE_ARCHES,
  packageFileNames,
  packageFiles,
  packageVersion,
  REQUIRED_COMMANDS,
  RPM_OWNED_DIRS,
  rpmFileName,
  shippedUnits,
  UNIT_DIR,
} from "../../scripts/package_meta.ts";
import { REPO, rootTest } from "../helpers/env.ts";
import { RELEASE } from "./release_dir.ts";

const work = mkdtempSync(join(tmpdir(), "vmaudit-packages-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string[], env: Record<string, string> = {}): Run {
  const p = Bun.spawnSync(cmd, {
    env: { ...process.env, LC_ALL: "C", TZ: "UTC", NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function sh(script: string, ...args: string[]): Run {
  return run(["sh", "-c", script, "sh", ...args]);
}

function sha256(data: Buffer | string): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

function inRelease(name: string): string {
  const path = join(RELEASE, name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run 'npm run package' first`);
  return path;
}

const VERSION = pkg.version;
const EPOCH = sourceDateEpoch();
const HOST_ARTIFACT =
  process.arch === "arm64" ? "vmaudit-linux-arm64" : "vmaudit-linux-x64-baseline";
const host = (args: string[]) => run([inRelease(HOST_ARTIFACT), ...args]);
// npm run package refuses a release without its man page, so the packages have it.
const OPTS = { manPage: true };
const MAN_PAGE = "/usr/share/man/man1/vmaudit.1.gz";

test("the release has the four packages, listed in SHA256SUMS, and sha256sum -c passes", () => {
  const sums = readFileSync(inRelease("SHA256SUMS"), "utf8");
  const listed = sums
    .trimEnd()
    .split("\n")
    .map((l) => l.split("  ")[1] ?? "");
  expect(listed.filter(isPackageFileName)).toEqual(packageFileNames(VERSION));
  for (const name of packageFileNames(VERSION)) {
    const size = statSync(inRelease(name)).size;
    console.log(`${name}: ${(size / 2 ** 20).toFixed(1)} MiB`);
  }
  const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: RELEASE, stdout: "pipe" });
  expect(check.exitCode).toBe(0);
  const ok = check.stdout.toString().trim().split("\n");
  // The binaries, the man page and the packages.
  expect(ok).toHaveLength(RELEASE_TARGETS.length + 1 + packageFileNames(VERSION).length);
});

/** One entry of a tar listing (tar -tv --full-time --numeric-owner). */
interface TarEntry {
  perms: string;
  owner: string;
  mtime: number;
  path: string;
}

function debEntries(deb: string): TarEntry[] {
  const r = sh('dpkg-deb --fsys-tarfile "$1" | tar -tv --full-time --numeric-owner -f -', deb);
  expect(r.code).toBe(0);
  return r.stdout
    .trimEnd()
    .split("\n")
    .map((line) => {
      const m = /^(\S+) (\S+)\s+\d+ (\S+ \S+) \.(\S*)$/.exec(line);
      if (!m) throw new Error(`Cannot read tar line "${line}"`);
      return {
        perms: m[1] as string,
        owner: m[2] as string,
        mtime: Date.parse(`${(m[3] as string).replace(" ", "T")}Z`) / 1000,
        path: (m[4] as string).replace(/\/$/, "") || "/",
      };
    });
}

const extracted = new Map<string, string>();

/** A file of the .deb, from one `dpkg-deb -x` of it (decompressing is the slow part). */
function debFile(deb: string, path: string): Buffer {
  let dir = extracted.get(deb);
  if (dir === undefined) {
    dir = join(work, `x-${extracted.size}`);
    const r = run(["dpkg-deb", "-x", deb, dir]);
    if (r.code !== 0) throw new Error(`Cannot extract ${deb}: ${r.stderr}`);
    extracted.set(deb, dir);
  }
  return readFileSync(join(dir, path));
}

const completions = {
  bash: host(["completions", "bash"]).stdout,
  zsh: host(["completions", "zsh"]).stdout,
  fish: host(["completions", "fish"]).stdout,
};

for (const arch of PACKAGE_ARCHES) {
  const name = debFileName(VERSION, arch.deb);
  describe(name, () => {
    const deb = inRelease(name);

    test("control: package, version, architecture, glibc dependency", () => {
      const r = run([
        "dpkg-deb",
        "-f",
        deb,
        "Package",
        "Version",
        "Architecture",
        "Depends",
        "Maintainer",
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Package: vmaudit\n");
      expect(r.stdout).toContain(`Version: ${packageVersion(VERSION)}\n`);
      expect(r.stdout).toContain(`Architecture: ${arch.deb}\n`);
      expect(r.stdout).toMatch(/^Depends: libc6 \(>= 2\.\d+\)$/m);
    });

    test("holds exactly the table's files, owned by root, 0755/0644, every time stamp the commit's", () => {
      const entries = debEntries(deb);
      const files = packageFiles("deb", OPTS);
      const dirs = new Set<string>(["/"]);
      for (const f of files) {
        for (let d = f.path; d.lastIndexOf("/") > 0; ) {
          d = d.slice(0, d.lastIndexOf("/"));
          dirs.add(d);
        }
      }
      expect(entries.map((e) => e.path).sort()).toEqual(
        [...dirs, ...files.map((f) => f.path)].sort(),
      );
      for (const e of entries) {
        const f = files.find((x) => x.path === e.path);
        const perms = f ? (f.mode === 0o755 ? "-rwxr-xr-x" : "-rw-r--r--") : "drwxr-xr-x";
        expect([e.path, e.perms, e.owner, e.mtime]).toEqual([e.path, perms, "0/0", EPOCH]);
      }
    });

    test(`/usr/bin/vmaudit is ${arch.artifact} from the release`, () => {
      expect(sha256(debFile(deb, "/usr/bin/vmaudit"))).toBe(
        sha256(readFileSync(inRelease(arch.artifact))),
      );
    }, 60_000);

    test("the completions are the binary's own, and the units the repository's (the exporter's port filled in)", () => {
      for (const shell of ["bash", "zsh", "fish"] as const) {
        expect(debFile(deb, completionPath("deb", shell)).toString()).toBe(completions[shell]);
      }
      for (const u of shippedUnits()) {
        expect(debFile(deb, `${UNIT_DIR}/${u.name}`).toString()).toBe(
          installedUnitText(
            u.name,
            readFileSync(join(REPO, "packaging", "systemd", u.name), "utf8"),
          ),
        );
      }
      expect(debFile(deb, `${UNIT_DIR}/vmaudit-exporter.service`).toString()).toContain(
        `ExecStart=/usr/bin/vmaudit exporter --listen 127.0.0.1:${EXPORTER_PORT}\n`,
      );
    });

    test("the binary has every command the units run", () => {
      const commands = helpCommands(host(["--help"]).stdout);
      for (const c of REQUIRED_COMMANDS) expect([c, commands.includes(c)]).toEqual([c, true]);
    });

    test(`${MAN_PAGE} is gzip -9n of the release's ${MAN_PAGE_INPUT}`, () => {
      const gz = debFile(deb, MAN_PAGE);
      expect([gz[3], gz.readUInt32LE(4), gz[8]]).toEqual([0, 0, 2]);
      expect(Buffer.from(Bun.gunzipSync(new Uint8Array(gz))).toString()).toBe(
        readFileSync(inRelease(MAN_PAGE_INPUT), "utf8"),
      );
    });

    test("changelog.gz is gzip -9n and dpkg-parsechangelog reads this version from it", () => {
      const gz = debFile(deb, "/usr/share/doc/vmaudit/changelog.gz");
      // gzip header: no file name flag, no time stamp, best compression.
      expect([gz[3], gz.readUInt32LE(4), gz[8]]).toEqual([0, 0, 2]);
      const file = join(work, `changelog-${arch.deb}`);
      writeFileSync(file, Bun.gunzipSync(new Uint8Array(gz)));
      const r = run(["dpkg-parsechangelog", "-l", file, "-S", "Version"]);
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toBe(packageVersion(VERSION));
    });

    test("lintian: no error or warning, every override used", () => {
      const r = run([
        "lintian",
        "--pedantic",
        "-I",
        "--show-overrides",
        "--tag-display-limit",
        "0",
        deb,
      ]);
      const lines = r.stdout.split("\n").filter((l) => /^[EWIPXO]: /.test(l));
      const of = (level: string) => lines.filter((l) => l.startsWith(`${level}: `));
      const tags = (ls: string[]) => [...new Set(ls.map((l) => l.split(" ")[2]))].sort();
      const overridden = of("O").map((l) => l.replace(/^O: vmaudit( \S+)?: /, ""));
      console.log(
        `lintian ${name}: ${of("E").length} errors, ${of("W").length} warnings, ` +
          `${overridden.length} overridden (${overridden.join("; ")}), info: ${tags(of("I")).join(", ")}`,
      );
      expect(of("E")).toEqual([]);
      expect(of("W")).toEqual([]);
      expect(lines.filter((l) => /unused-override|mismatched-override/.test(l))).toEqual([]);
      // Every override in the file matched a tag.
      const declared = readFileSync(join(REPO, "packaging", "debian", "lintian-overrides"), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("vmaudit: "))
        .map((l) => l.slice("vmaudit: ".length));
      expect(overridden.sort()).toEqual(declared.sort());
    }, 180_000);
  });
}

/** Debian's rpm warns on every install that it is not Debian's package manager. */
function withoutDebianNotice(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !/^rpm: (RPM should not be used directly|However assuming you know)/.test(l))
    .join("\n");
}

interface RpmFile {
  path: string;
  perms: string;
  user: string;
  group: string;
  mtime: number;
}

function rpmFiles(rpm: string): RpmFile[] {
  const r = run([
    "rpm",
    "-qp",
    "--qf",
    "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEMTIMES} %{FILENAMES}\n]",
    rpm,
  ]);
  expect(r.code).toBe(0);
  return r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => {
      const [perms, user, group, mtime, path] = l.split(" ");
      return {
        perms: perms ?? "",
        user: user ?? "",
        group: group ?? "",
        mtime: Number(mtime),
        path: path ?? "",
      };
    });
}

for (const arch of PACKAGE_ARCHES) {
  const name = rpmFileName(VERSION, arch.rpm);
  describe(name, () => {
    const rpm = inRelease(name);
    const files = packageFiles("rpm", OPTS);

    test("rpm -qpl lists the table's files and the completion folders it co-owns", () => {
      const r = run(["rpm", "-qpl", rpm]);
      expect(r.code).toBe(0);
      expect(r.stdout.trimEnd().split("\n").sort()).toEqual(
        [...files.map((f) => f.path), ...RPM_OWNED_DIRS].sort(),
      );
    });

    test("header: name, version, release, architecture, licence, build time the commit's", () => {
      const r = run([
        "rpm",
        "-qp",
        "--qf",
        "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{LICENSE} %{BUILDTIME} %{BUILDHOST}",
        rpm,
      ]);
      expect(r.stdout).toBe(
        `vmaudit ${packageVersion(VERSION)} 1 ${arch.rpm} GPL-2.0-only ${EPOCH} reproducible`,
      );
      expect(run(["rpm", "-qp", "--licensefiles", rpm]).stdout.trim()).toBe(
        "/usr/share/licenses/vmaudit/LICENSE",
      );
      const changelog = run(["rpm", "-qp", "--changelog", rpm]).stdout;
      expect(changelog.split("\n")[0]).toEndWith(` - ${packageVersion(VERSION)}-1`);
    });

    test("every file root:root, 0755 for the binary and folders, 0644 else, time stamps the commit's", () => {
      for (const f of rpmFiles(rpm)) {
        const entry = files.find((x) => x.path === f.path);
        const perms = entry ? (entry.mode === 0o755 ? "-rwxr-xr-x" : "-rw-r--r--") : "drwxr-xr-x";
        expect([f.path, f.perms, f.user, f.group, f.mtime]).toEqual([
          f.path,
          perms,
          "root",
          "root",
          EPOCH,
        ]);
      }
    });

    rootTest(
      "rpm -i --root DIR --nodeps installs the files; rpm -V finds them intact; rpm -e removes them",
      () => {
        const root = join(work, `rpmroot-${arch.rpm}`);
        mkdirSync(root);
        expect(run(["rpm", "--root", root, "--initdb"]).code).toBe(0);
        // The aarch64 package is for another machine than this one.
        const foreign = arch.rpm !== (process.arch === "arm64" ? "aarch64" : "x86_64");
        const install = run([
          "rpm",
          "-i",
          "--root",
          root,
          "--nodeps",
          ...(foreign ? ["--ignorearch"] : []),
          rpm,
        ]);
        expect(withoutDebianNotice(install.stderr)).toBe("");
        expect(install.code).toBe(0);
        expect(run(["rpm", "--root", root, "-q", "vmaudit"]).stdout.trim()).toBe(
          `vmaudit-${packageVersion(VERSION)}-1.${arch.rpm}`,
        );
        for (const f of files) {
          const st = statSync(join(root, f.path));
          expect([f.path, st.mode & 0o777, st.uid]).toEqual([f.path, f.mode, 0]);
        }
        expect(sha256(readFileSync(join(root, "usr/bin/vmaudit")))).toBe(
          sha256(readFileSync(inRelease(arch.artifact))),
        );
        expect(Buffer.from(Bun.gunzipSync(readFileSync(join(root, MAN_PAGE)))).toString()).toBe(
          readFileSync(inRelease(MAN_PAGE_INPUT), "utf8"),
        );
        const verify = run(["rpm", "--root", root, "-V", "--nodeps", "vmaudit"]);
        expect(verify.stdout + verify.stderr).toBe("");
        expect(verify.code).toBe(0);
        // The erase scriptlets need /bin/sh, which this empty root lacks.
        const erase = run(["rpm", "-e", "--root", root, "--noscripts", "vmaudit"]);
        expect(erase.code).toBe(0);
        const left = run(["find", join(root, "usr"), "-mindepth", "1"])
          .stdout.trimEnd()
          .split("\n")
          .map((p) => p.slice(root.length));
        // Only the system's own folders stay (filesystem and systemd own them on a real system).
        expect(left.sort()).toEqual(
          [
            "/usr/bin",
            "/usr/lib",
            "/usr/lib/systemd",
            "/usr/lib/systemd/system",
            "/usr/share",
            "/usr/share/doc",
            "/usr/share/licenses",
            "/usr/share/man",
            "/usr/share/man/man1",
          ].sort(),
        );
      },
      60_000,
    );
  });
}

describe("rpmlint", () => {
  const rpms = PACKAGE_ARCHES.map((a) => inRelease(rpmFileName(VERSION, a.rpm)));
  const rc = join(REPO, "packaging", "rpm", "vmaudit.rpmlintrc");

  test("every error and warning is filtered by packaging/rpm/vmaudit.rpmlintrc, and every filter is used", () => {
    const r = run(["rpmlint", ...rpms]);
    const findings = r.stdout.split("\n").filter((l) => /^vmaudit\.\S+: [EW]: /.test(l));
    const filters = [...readFileSync(rc, "utf8").matchAll(/^addFilter\(r"(.*)"\)$/gm)].map(
      (m) => new RegExp(m[1] as string),
    );
    console.log(`rpmlint without filters: ${findings.length} findings\n  ${findings.join("\n  ")}`);
    for (const f of findings) expect([f, filters.some((re) => re.test(f))]).toEqual([f, true]);
    for (const re of filters)
      expect([String(re), findings.some((f) => re.test(f))]).toEqual([String(re), true]);
  }, 120_000);

  test("its no-manual-page-for-binary is its own mistake: the rpms have vmaudit's man page", () => {
    for (const rpm of rpms) expect(run(["rpm", "-qpl", rpm]).stdout).toContain(`${MAN_PAGE}\n`);
  });

  test("with the filters: 0 errors, 0 warnings", () => {
    const r = run(["rpmlint", "-r", rc, ...rpms]);
    expect(r.stdout).toMatch(/ 0 errors, 0 warnings/);
    expect(r.code).toBe(0);
  }, 120_000);
});

test("a second packaging of the same release in another directory gives the same bytes", () => {
  const again = join(work, "again");
  mkdirSync(again);
  for (const name of [...RELEASE_TARGETS.map((t) => t.artifact), MAN_PAGE_INPUT]) {
    try {
      linkSync(inRelease(name), join(again, name));
    } catch {
      copyFileSync(inRelease(name), join(again, name));
    }
  }
  const args = (process.env.VMAUDIT_PACKAGE_ARGS ?? "").split(" ").filter(Boolean);
  const r = run([process.execPath, join(REPO, "scripts", "package.ts"), "--dir", again, ...args]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const lines = (dir: string) =>
    readFileSync(join(dir, "SHA256SUMS"), "utf8")
      .split("\n")
      .filter((l) => isPackageFileName(l.split("  ")[1] ?? ""));
  expect(lines(again)).toEqual(lines(RELEASE));
}, 600_000);
