/**
 * Build the .deb and .rpm packages from the release binaries (npm run package).
 *
 *   bun scripts/package.ts               # from dist/release/ (npm run release first), into it
 *   bun scripts/package.ts --dir DIR     # the release in DIR
 *   bun scripts/package.ts --fast        # xz level 0 instead of 6 (the test builds)
 *
 * Writes vmaudit_VERSION_{amd64,arm64}.deb (dpkg-deb) and
 * vmaudit-VERSION-1.{x86_64,aarch64}.rpm (rpmbuild) next to the binaries and
 * adds them to SHA256SUMS. What goes in is the table in package_meta.ts.
 * Reproducible: every time stamp is SOURCE_DATE_EPOCH (from the environment,
 * else the commit's time), owners are root, modes are set, and the xz
 * encoder always runs with two threads (its output depends on whether it is
 * multi-threaded, not on the number of threads).
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import pkg from "../package.json" with { type: "json" };
import { writeFileAtomic } from "../src/fs/atomic_write.ts";
import {
  type Content,
  changelogUpTo,
  debControl,
  debFileName,
  debianChangelog,
  type Family,
  fillTemplate,
  helpCommands,
  installedUnitText,
  isPackageFileName,
  MAINTAINER,
  MAN_PAGE_INPUT,
  newestGlibc,
  PACKAGE_ARCHES,
  type PackageArch,
  type PackagedFile,
  type PackageOptions,
  PackagingError,
  packageFileNames,
  packageFiles,
  packageVersion,
  parseChangelog,
  REQUIRED_COMMANDS,
  RPM_OWNED_DIRS,
  RPM_RELEASE,
  rpmChangelog,
  rpmDescription,
  rpmFileName,
  rpmSummary,
  type Shell,
  shippedUnits,
} from "./package_meta.ts";

const REPO = join(import.meta.dir, "..");
const XZ_THREADS = "2";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string[], env: Record<string, string> = {}): Run {
  const p = Bun.spawnSync(cmd, {
    env: { ...process.env, LC_ALL: "C", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

function must(cmd: string[], env: Record<string, string> = {}): string {
  const r = run(cmd, env);
  if (r.code !== 0) {
    throw new PackagingError(`${cmd.join(" ")} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/** The release binary this machine can run, to ask it for completions and its help. */
function hostArtifact(): string {
  if (process.arch === "x64") return "vmaudit-linux-x64-baseline";
  if (process.arch === "arm64") return "vmaudit-linux-arm64";
  throw new PackagingError(`Cannot package on a ${process.arch} machine: expected x64 or arm64`);
}

/** SOURCE_DATE_EPOCH from the environment, else the commit time of HEAD. */
export function sourceDateEpoch(env: Record<string, string | undefined> = process.env): number {
  const fromEnv = env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!/^\d+$/.test(fromEnv)) {
      throw new PackagingError(
        `Cannot use SOURCE_DATE_EPOCH "${fromEnv}": expected seconds since 1970`,
      );
    }
    return Number(fromEnv);
  }
  const p = Bun.spawnSync(["git", "log", "-1", "--format=%ct", "HEAD"], {
    cwd: REPO,
    stdout: "pipe",
  });
  const out = p.stdout.toString().trim();
  if (p.exitCode !== 0 || !/^\d+$/.test(out)) {
    throw new PackagingError(
      "Cannot find the commit time: set SOURCE_DATE_EPOCH (no git checkout here)",
    );
  }
  return Number(out);
}

/** Everything the packages are made from, gathered once. */
interface Inputs {
  dir: string;
  version: string;
  epoch: number;
  opts: PackageOptions;
  completions: Record<Shell, string>;
  debianChangelog: string;
  rpmChangelog: string;
}

function gatherInputs(dir: string): Inputs {
  for (const a of PACKAGE_ARCHES) {
    if (!existsSync(join(dir, a.artifact))) {
      throw new PackagingError(`Cannot find "${join(dir, a.artifact)}": run npm run release first`);
    }
  }
  const host = join(dir, hostArtifact());
  const version = must([host, "--version"]).trim();
  if (!version.startsWith(`vmaudit ${pkg.version} `)) {
    throw new PackagingError(
      `Cannot package "${version}" as ${pkg.version}: rebuild the release (npm run release)`,
    );
  }
  const commands = helpCommands(must([host, "--help"], { NO_COLOR: "1" }));
  const missing = REQUIRED_COMMANDS.filter((c) => !commands.includes(c));
  if (missing.length > 0) {
    throw new PackagingError(
      `Cannot package ${host}: its --help lists no ${missing.join(", ")} command (the units and completions run them); got ${commands.join(", ")}`,
    );
  }
  // The man page is the release's, and must be the binary's own: what its
  // `help --man` prints (a release directory with binaries of another
  // build would otherwise get the page of different commands).
  const manPage = join(dir, MAN_PAGE_INPUT);
  if (!existsSync(manPage)) {
    throw new PackagingError(`Cannot find "${manPage}": run npm run release first`);
  }
  if (readFileSync(manPage, "utf8") !== must([host, "help", "--man"])) {
    throw new PackagingError(
      `Cannot pack "${manPage}": it is not what ${host} help --man prints (rebuild the release: npm run release)`,
    );
  }
  const completions = {} as Record<Shell, string>;
  for (const shell of ["bash", "zsh", "fish"] as const) {
    completions[shell] = must([host, "completions", shell]);
  }
  const entries = changelogUpTo(
    parseChangelog(readFileSync(join(REPO, "CHANGELOG.md"), "utf8")),
    pkg.version,
  );
  return {
    dir,
    version: pkg.version,
    epoch: sourceDateEpoch(),
    opts: { manPage: true },
    completions,
    debianChangelog: debianChangelog(entries),
    rpmChangelog: rpmChangelog(entries),
  };
}

/** gzip -9n: no name, no time stamp (lintian and reproducibility want both). */
function gzip(data: Buffer): Buffer {
  const out = gzipSync(data, { level: 9 });
  out[9] = 3; // OS = Unix, as gzip(1) writes it, whatever zlib was built for
  return out;
}

function contentBytes(content: Content, arch: PackageArch, inputs: Inputs): Buffer {
  switch (content.kind) {
    case "binary":
      return readFileSync(join(inputs.dir, arch.artifact));
    case "completion":
      return Buffer.from(inputs.completions[content.shell]);
    case "unit": {
      const text = readFileSync(join(REPO, "packaging", "systemd", content.name), "utf8");
      return Buffer.from(installedUnitText(content.name, text));
    }
    case "repo":
      return readFileSync(join(REPO, content.path));
    case "debian-changelog":
      return Buffer.from(inputs.debianChangelog);
    case "man-page":
      return readFileSync(join(inputs.dir, MAN_PAGE_INPUT));
  }
}

/** Write one file of a staging tree with its mode; parents are created 0755. */
function stageFile(root: string, path: string, data: Buffer | string, mode: number): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true, mode: 0o755 });
  writeFileSync(full, data);
  chmodSync(full, mode);
}

/** Every directory 0755 and every time stamp the epoch, deepest first. */
function fixTree(root: string, epoch: number): void {
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      utimesSync(full, epoch, epoch);
    }
    chmodSync(dir, 0o755);
    utimesSync(dir, epoch, epoch);
  };
  walk(root);
}

function stageFiles(root: string, files: PackagedFile[], arch: PackageArch, inputs: Inputs) {
  for (const f of files) {
    const bytes = contentBytes(f.content, arch, inputs);
    stageFile(root, f.path, f.gzip ? gzip(bytes) : bytes, f.mode);
  }
}

/** Installed-Size as dpkg-gencontrol counts it: KiB per file rounded up, 1 per folder. */
function installedSizeKiB(root: string): number {
  let kib = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      if (dir === root && name === "DEBIAN") continue;
      const full = join(dir, name);
      const st = statSync(full);
      if (st.isDirectory()) {
        kib += 1;
        walk(full);
      } else {
        kib += Math.ceil(st.size / 1024);
      }
    }
  };
  walk(root);
  return kib;
}

function glibcOf(binary: string): string {
  const glibc = newestGlibc(must(["readelf", "-V", "-W", binary]));
  if (!glibc)
    throw new PackagingError(`Cannot find the glibc version ${binary} needs (readelf -V)`);
  return glibc;
}

function unitValues(): Record<string, string> {
  const units = shippedUnits();
  return {
    UNITS: units.map((u) => u.name).join(" "),
    INSTALLABLE_UNITS: units
      .filter((u) => u.installable)
      .map((u) => u.name)
      .join(" "),
  };
}

function buildDeb(work: string, arch: PackageArch, inputs: Inputs, level: number): string {
  const root = join(work, `deb-${arch.deb}`);
  const files = packageFiles("deb", inputs.opts);
  stageFiles(root, files, arch, inputs);
  const units = unitValues();
  for (const script of ["postinst", "prerm", "postrm"]) {
    const text = readFileSync(join(REPO, "packaging", "debian", script), "utf8");
    const values = Object.fromEntries(
      Object.entries(units).filter(([k]) => text.includes(`@${k}@`)),
    );
    stageFile(root, `DEBIAN/${script}`, fillTemplate(text, values), 0o755);
  }
  const md5sums = files
    .map((f) => {
      const hex = createHash("md5")
        .update(readFileSync(join(root, f.path)))
        .digest("hex");
      return `${hex}  ${f.path.slice(1)}\n`;
    })
    .join("");
  stageFile(root, "DEBIAN/md5sums", md5sums, 0o644);
  const control = debControl({
    version: inputs.version,
    arch: arch.deb,
    installedSizeKiB: installedSizeKiB(root),
    glibc: glibcOf(join(inputs.dir, arch.artifact)),
  });
  stageFile(root, "DEBIAN/control", control, 0o644);
  fixTree(root, inputs.epoch);
  const out = join(work, debFileName(inputs.version, arch.deb));
  must(
    [
      "dpkg-deb",
      "--root-owner-group",
      "-Zxz",
      `-z${level}`,
      `--threads-max=${XZ_THREADS}`,
      "--build",
      root,
      out,
    ],
    { SOURCE_DATE_EPOCH: String(inputs.epoch) },
  );
  return out;
}

/** The %files section: explicit owner and mode for each file, the co-owned folders. */
function rpmFilesSection(files: PackagedFile[]): string {
  const lines = RPM_OWNED_DIRS.map((d) => `%dir %attr(0755,root,root) ${d}`);
  for (const f of files) {
    const mode = f.mode.toString(8).padStart(4, "0");
    const mark = f.license ? "%license " : f.doc ? "%doc " : "";
    lines.push(`${mark}%attr(${mode},root,root) ${f.path}`);
  }
  return lines.join("\n");
}

function buildRpm(work: string, arch: PackageArch, inputs: Inputs, level: number): string {
  const top = join(work, `rpm-${arch.rpm}`);
  const stage = join(top, "stage");
  const files = packageFiles("rpm", inputs.opts);
  stageFiles(stage, files, arch, inputs);
  for (const d of RPM_OWNED_DIRS) mkdirSync(join(stage, d), { recursive: true, mode: 0o755 });
  fixTree(stage, inputs.epoch);
  const template = readFileSync(join(REPO, "packaging", "rpm", "vmaudit.spec"), "utf8");
  const spec =
    fillTemplate(template, {
      VERSION: packageVersion(inputs.version),
      RELEASE: RPM_RELEASE,
      SUMMARY: rpmSummary(),
      PACKAGER: MAINTAINER,
      DESCRIPTION: rpmDescription(),
      STAGE: stage,
      FILES: rpmFilesSection(files),
      PAYLOAD: `w${level}T${XZ_THREADS}.xzdio`,
      UNITS: unitValues().UNITS as string,
    }) + inputs.rpmChangelog;
  const specFile = join(top, "vmaudit.spec");
  writeFileSync(specFile, spec);
  must(
    [
      "rpmbuild",
      "-bb",
      "--quiet",
      "--target",
      arch.rpm,
      "--define",
      `_topdir ${top}`,
      "--define",
      `_tmppath ${join(top, "tmp")}`,
      specFile,
    ],
    { SOURCE_DATE_EPOCH: String(inputs.epoch) },
  );
  const name = rpmFileName(inputs.version, arch.rpm);
  const built = join(top, "RPMS", arch.rpm, name);
  if (!existsSync(built)) throw new PackagingError(`rpmbuild did not write ${built}`);
  return built;
}

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * SHA256SUMS with the lines of `names` replaced (added at the end, in order),
 * and lines of any other package dropped.
 */
export function updateSums(sums: string, entries: [name: string, hex: string][]): string {
  const kept = sums
    .split("\n")
    .filter((l) => l !== "" && !isPackageFileName(l.split("  ")[1] ?? ""));
  const lines = [...kept, ...entries.map(([name, hex]) => `${hex}  ${name}`)];
  return `${lines.join("\n")}\n`;
}

export function buildPackages(dir: string, level: number): string[] {
  const inputs = gatherInputs(dir);
  // No stale package of another version may stay next to fresh SHA256SUMS.
  for (const name of readdirSync(dir)) {
    if (isPackageFileName(name)) rmSync(join(dir, name), { force: true });
  }
  const work = mkdtempSync(join(tmpdir(), "vmaudit-package-"));
  const entries: [string, string][] = [];
  try {
    const builders: [Family, (a: PackageArch) => string][] = [
      ["deb", (a) => buildDeb(work, a, inputs, level)],
      ["rpm", (a) => buildRpm(work, a, inputs, level)],
    ];
    for (const [family, build] of builders) {
      for (const arch of PACKAGE_ARCHES) {
        const started = performance.now();
        const built = build(arch);
        const name =
          family === "deb"
            ? debFileName(inputs.version, arch.deb)
            : rpmFileName(inputs.version, arch.rpm);
        renameSync(built, join(dir, name));
        const hex = sha256File(join(dir, name));
        entries.push([name, hex]);
        const mib = (statSync(join(dir, name)).size / 2 ** 20).toFixed(1);
        console.log(
          `${name}  ${mib} MiB  ${hex.slice(0, 16)}…  ${Math.round(performance.now() - started)} ms`,
        );
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const sumsFile = join(dir, "SHA256SUMS");
  const old = existsSync(sumsFile) ? readFileSync(sumsFile, "utf8") : "";
  writeFileAtomic(sumsFile, updateSums(old, entries));
  const extras = ["man page", "exporter unit"];
  console.log(
    `${sumsFile} updated: ${packageFileNames(inputs.version).length} packages; ${extras.join(", ")}`,
  );
  return entries.map(([name]) => join(dir, name));
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  let dir = join(REPO, "dist", "release");
  let level = 6;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--dir" && args[i + 1]) dir = resolve(args[++i] as string);
    else if (a === "--fast") level = 0;
    else {
      console.error(`package: Unknown argument "${a}": expected --dir DIR or --fast`);
      process.exit(2);
    }
  }
  try {
    buildPackages(dir, level);
  } catch (e) {
    if (!(e instanceof PackagingError)) throw e;
    console.error(`package: ${e.message}`);
    process.exit(1);
  }
}
