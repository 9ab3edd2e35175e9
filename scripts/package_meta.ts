/**
 * What goes into the .deb and .rpm packages, as pure data and text: file
 * layout, versions, control file, changelogs, unit lists. scripts/package.ts
 * does the I/O (staging, dpkg-deb, rpmbuild); the tests read the same table,
 * so the packages, their tests and the docs cannot disagree.
 */

/** An expected packaging failure: scripts/package.ts prints its message alone and exits 1. */
export class PackagingError extends Error {}

/** Maintainer of the packages (Debian Maintainer, changelog trailers, rpm %changelog). */
export const MAINTAINER = "vmaudit maintainers <maintainers@vmaudit.invalid>";

/**
 * The port of `vmaudit exporter --listen 127.0.0.1:PORT` in
 * packaging/systemd/vmaudit-exporter.service (its `@EXPORTER_PORT@`): the
 * exporter's own constant, so the unit, the image and the command agree.
 */
import { EXPORTER_PORT } from "../src/commands/exporter.ts";

export { EXPORTER_PORT };

/**
 * The man page in the release directory: `npm run release` writes it
 * (scripts/build.ts), rendered as the binaries' `vmaudit help --man` prints
 * it; scripts/package.ts packs it as /usr/share/man/man1/vmaudit.1.gz.
 */
export const MAN_PAGE_INPUT = "vmaudit.1";

export const SUMMARY = "count the VMAs of every process and size vm.max_map_count";

/** The long description, one paragraph per string. */
export const DESCRIPTION: readonly string[] = [
  "vmaudit reads /proc/PID/maps of every process, counts its Virtual Memory Areas, " +
    "and recommends a value for the kernel's per-process limit vm.max_map_count. " +
    "It sets the value now and at boot, proves a limit with a stress worker, explains " +
    "one process's mappings, watches peaks over time, and exports metrics for " +
    "Prometheus and monitoring plugins.",
  "The package has the binary, a manual page, completions for bash, zsh and fish, and systemd units " +
    "for node_exporter's textfile collector and for vmaudit's own Prometheus exporter, " +
    "which are installed but not enabled.",
];

/** One architecture of the packages, and the release binary it packs. */
export interface PackageArch {
  deb: "amd64" | "arm64";
  rpm: "x86_64" | "aarch64";
  /**
   * The release artifact. amd64 packs the baseline build: a package is
   * installed on every x86-64 machine, also those without AVX2.
   */
  artifact: string;
}

export const PACKAGE_ARCHES: readonly PackageArch[] = [
  { deb: "amd64", rpm: "x86_64", artifact: "vmaudit-linux-x64-baseline" },
  { deb: "arm64", rpm: "aarch64", artifact: "vmaudit-linux-arm64" },
];

export type Family = "deb" | "rpm";
export type Shell = "bash" | "zsh" | "fish";

/** Where a packaged file's bytes come from. */
export type Content =
  | { kind: "binary" }
  | { kind: "completion"; shell: Shell }
  | { kind: "unit"; name: string }
  | { kind: "repo"; path: string }
  | { kind: "debian-changelog" }
  | { kind: "man-page" };

export interface PackagedFile {
  /** Absolute path on the installed system. */
  path: string;
  mode: 0o755 | 0o644;
  content: Content;
  /** Gzip the content (gzip -9n) when packing. */
  gzip?: boolean;
  /** rpm: mark as %license. */
  license?: boolean;
  /** rpm: mark as %doc. */
  doc?: boolean;
}

/** The systemd units, and whether each has an [Install] section. */
export interface Unit {
  name: string;
  installable: boolean;
}

export const UNIT_DIR = "/usr/lib/systemd/system";
/** The units every package ships (none enabled), in packaging/systemd/. */
export const UNITS: readonly Unit[] = [
  { name: "vmaudit-exporter.service", installable: true },
  { name: "vmaudit-textfile.service", installable: false },
  { name: "vmaudit-textfile.timer", installable: true },
];

/**
 * A unit as the packages install it, from its text in packaging/systemd/:
 * the exporter's `@EXPORTER_PORT@` filled in, the others as they are.
 *
 * @example
 * installedUnitText("vmaudit-exporter.service", "ExecStart=... 127.0.0.1:@EXPORTER_PORT@\n"); // "ExecStart=... 127.0.0.1:10065\n"
 */
export function installedUnitText(name: string, repoText: string): string {
  return name === "vmaudit-exporter.service"
    ? fillTemplate(repoText, { EXPORTER_PORT: String(EXPORTER_PORT) })
    : repoText;
}

/** The commands the packaged units and completions run: the binary must have them. */
export const REQUIRED_COMMANDS: readonly string[] = ["scan", "exporter", "completions"];

/** What the binary being packed comes with, which decides optional contents. */
export interface PackageOptions {
  /** A man page input exists (MAN_PAGE_INPUT). */
  manPage: boolean;
}

/** The units the packages ship. */
export function shippedUnits(): Unit[] {
  return [...UNITS];
}

/** The standard completion folder of each shell, per family (zsh differs). */
export function completionPath(family: Family, shell: Shell): string {
  switch (shell) {
    case "bash":
      return "/usr/share/bash-completion/completions/vmaudit";
    case "zsh":
      // Debian's zsh puts vendor-completions on $fpath; Fedora's uses site-functions.
      return family === "deb"
        ? "/usr/share/zsh/vendor-completions/_vmaudit"
        : "/usr/share/zsh/site-functions/_vmaudit";
    case "fish":
      return "/usr/share/fish/vendor_completions.d/vmaudit.fish";
  }
}

/**
 * Every file of the package, sorted by path.
 *
 * @example
 * packageFiles("deb", { manPage: false })[0]?.path; // "/usr/bin/vmaudit"
 */
export function packageFiles(family: Family, opts: PackageOptions): PackagedFile[] {
  const files: PackagedFile[] = [
    { path: "/usr/bin/vmaudit", mode: 0o755, content: { kind: "binary" } },
    ...(["bash", "zsh", "fish"] as const).map(
      (shell): PackagedFile => ({
        path: completionPath(family, shell),
        mode: 0o644,
        content: { kind: "completion", shell },
      }),
    ),
    ...shippedUnits().map(
      (u): PackagedFile => ({
        path: `${UNIT_DIR}/${u.name}`,
        mode: 0o644,
        content: { kind: "unit", name: u.name },
      }),
    ),
  ];
  if (opts.manPage) {
    files.push({
      path: "/usr/share/man/man1/vmaudit.1.gz",
      mode: 0o644,
      content: { kind: "man-page" },
      gzip: true,
    });
  }
  files.push({
    path: "/usr/share/doc/vmaudit/README.md",
    mode: 0o644,
    content: { kind: "repo", path: "README.md" },
    doc: true,
  });
  if (family === "deb") {
    files.push(
      {
        path: "/usr/share/doc/vmaudit/copyright",
        mode: 0o644,
        content: { kind: "repo", path: "packaging/debian/copyright" },
      },
      {
        path: "/usr/share/doc/vmaudit/changelog.gz",
        mode: 0o644,
        content: { kind: "debian-changelog" },
        gzip: true,
      },
      {
        path: "/usr/share/lintian/overrides/vmaudit",
        mode: 0o644,
        content: { kind: "repo", path: "packaging/debian/lintian-overrides" },
      },
    );
  } else {
    files.push({
      path: "/usr/share/licenses/vmaudit/LICENSE",
      mode: 0o644,
      content: { kind: "repo", path: "LICENSE" },
      license: true,
    });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Folders the rpm co-owns, so that erasing it removes them when they end up
 * empty (Fedora's guideline for completion folders of shells it does not
 * require).
 */
export const RPM_OWNED_DIRS: readonly string[] = [
  "/usr/share/bash-completion",
  "/usr/share/bash-completion/completions",
  "/usr/share/doc/vmaudit",
  "/usr/share/fish",
  "/usr/share/fish/vendor_completions.d",
  "/usr/share/licenses/vmaudit",
  "/usr/share/zsh",
  "/usr/share/zsh/site-functions",
];

const SEMVER = /^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.]+))?$/;

/**
 * The package version for a package.json version: a pre-release sorts
 * before its release in dpkg and rpm only with `~`.
 *
 * @example
 * packageVersion("0.1.0"); // "0.1.0"
 * packageVersion("1.0.0-rc.1"); // "1.0.0~rc.1"
 */
export function packageVersion(version: string): string {
  const m = SEMVER.exec(version);
  if (!m) {
    throw new PackagingError(
      `Cannot package version "${version}": expected MAJOR.MINOR.PATCH[-PRERELEASE]`,
    );
  }
  return m[2] ? `${m[1]}~${m[2]}` : (m[1] as string);
}

/** The rpm Release of every package built from one version. */
export const RPM_RELEASE = "1";

/**
 * The file names of the packages.
 *
 * @example
 * debFileName("0.1.0", "amd64"); // "vmaudit_0.1.0_amd64.deb"
 * rpmFileName("0.1.0", "aarch64"); // "vmaudit-0.1.0-1.aarch64.rpm"
 */
export function debFileName(version: string, arch: PackageArch["deb"]): string {
  return `vmaudit_${packageVersion(version)}_${arch}.deb`;
}

export function rpmFileName(version: string, arch: PackageArch["rpm"]): string {
  return `vmaudit-${packageVersion(version)}-${RPM_RELEASE}.${arch}.rpm`;
}

/** Every package of a version, in the order they are built and listed in SHA256SUMS. */
export function packageFileNames(version: string): string[] {
  return [
    ...PACKAGE_ARCHES.map((a) => debFileName(version, a.deb)),
    ...PACKAGE_ARCHES.map((a) => rpmFileName(version, a.rpm)),
  ];
}

/** Whether a release-directory name is a package of any version (to clear stale ones). */
export function isPackageFileName(name: string): boolean {
  return (
    /^vmaudit_[^/]+_(amd64|arm64)\.deb$/.test(name) ||
    /^vmaudit-[^/]+\.(x86_64|aarch64)\.rpm$/.test(name)
  );
}

/** One release in CHANGELOG.md. */
export interface ChangelogEntry {
  version: string;
  /** YYYY-MM-DD */
  date: string;
  items: string[];
}

/**
 * The releases of CHANGELOG.md, newest first as written: `## VERSION - DATE`
 * headings, each followed by `- ` items (continuation lines indented).
 */
export function parseChangelog(markdown: string): ChangelogEntry[] {
  const entries: ChangelogEntry[] = [];
  let current: ChangelogEntry | undefined;
  for (const line of markdown.split("\n")) {
    const heading = /^## (\S+) - (\d{4}-\d{2}-\d{2})\s*$/.exec(line);
    if (heading) {
      const date = heading[2] as string;
      if (Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
        throw new PackagingError(`Cannot read CHANGELOG.md date "${date}": expected YYYY-MM-DD`);
      }
      current = { version: heading[1] as string, date, items: [] };
      entries.push(current);
    } else if (/^## /.test(line)) {
      throw new PackagingError(
        `Cannot read CHANGELOG.md heading "${line}": expected "## VERSION - YYYY-MM-DD"`,
      );
    } else if (current && line.startsWith("- ")) {
      current.items.push(line.slice(2).trim());
    } else if (current && /^\s+\S/.test(line) && current.items.length > 0) {
      const last = current.items.length - 1;
      current.items[last] = `${current.items[last]} ${line.trim()}`;
    }
  }
  return entries;
}

/** The entries from `version` down (older releases included), or an error naming what is missing. */
export function changelogUpTo(entries: ChangelogEntry[], version: string): ChangelogEntry[] {
  const i = entries.findIndex((e) => e.version === version);
  if (i < 0) {
    throw new PackagingError(
      `Cannot package version "${version}": CHANGELOG.md has no "## ${version} - YYYY-MM-DD" section`,
    );
  }
  const entry = entries[i] as ChangelogEntry;
  if (entry.items.length === 0) {
    throw new PackagingError(
      `Cannot package version "${version}": its CHANGELOG.md section has no "- " item`,
    );
  }
  return entries.slice(i);
}

/** Words of `text` in lines of at most `width` columns (a longer word stays whole). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * debian/changelog text (deb-changelog(5)), lines under 80 columns.
 *
 * @example
 * debianChangelog([{ version: "0.1.0", date: "2026-11-26", items: ["First."] }]);
 * // "vmaudit (0.1.0) unstable; urgency=medium\n\n  * First.\n\n -- … Thu, 26 Nov 2026 00:00:00 +0000\n"
 */
export function debianChangelog(entries: ChangelogEntry[], maintainer = MAINTAINER): string {
  return entries
    .map((e) => {
      const d = new Date(`${e.date}T00:00:00Z`);
      const date = `${DAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} 00:00:00 +0000`;
      const items = e.items
        .map((item) =>
          wrapWords(item, 74)
            .map((l, i) => (i === 0 ? `  * ${l}` : `    ${l}`))
            .join("\n"),
        )
        .join("\n");
      return `vmaudit (${packageVersion(e.version)}) unstable; urgency=medium\n\n${items}\n\n -- ${maintainer}  ${date}\n`;
    })
    .join("\n");
}

/**
 * The rpm %changelog section body.
 *
 * @example
 * rpmChangelog([{ version: "0.1.0", date: "2026-11-26", items: ["First."] }]);
 * // "* Thu Nov 26 2026 … - 0.1.0-1\n- First.\n"
 */
export function rpmChangelog(entries: ChangelogEntry[], maintainer = MAINTAINER): string {
  return entries
    .map((e) => {
      const d = new Date(`${e.date}T00:00:00Z`);
      const date = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${d.getUTCFullYear()}`;
      // "%" starts a macro in a spec file.
      const items = e.items.map((i) => `- ${i.replaceAll("%", "%%")}`).join("\n");
      return `* ${date} ${maintainer} - ${packageVersion(e.version)}-${RPM_RELEASE}\n${items}\n`;
    })
    .join("\n");
}

/**
 * The DEBIAN/control file.
 *
 * @example
 * debControl({ version: "0.1.0", arch: "amd64", installedSizeKiB: 108600, glibc: "2.17" });
 */
export function debControl(opts: {
  version: string;
  arch: PackageArch["deb"];
  installedSizeKiB: number;
  /** The newest GLIBC_x.y symbol version the binary needs. */
  glibc: string;
}): string {
  const long = DESCRIPTION.map((p) =>
    wrapWords(p, 78)
      .map((l) => ` ${l}`)
      .join("\n"),
  ).join("\n .\n");
  return [
    "Package: vmaudit",
    `Version: ${packageVersion(opts.version)}`,
    `Architecture: ${opts.arch}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${opts.installedSizeKiB}`,
    `Depends: libc6 (>= ${opts.glibc})`,
    "Section: admin",
    "Priority: optional",
    `Description: ${SUMMARY}`,
    long,
    "",
  ].join("\n");
}

/** The rpm description: the same paragraphs, wrapped. */
export function rpmDescription(): string {
  return DESCRIPTION.map((p) => wrapWords(p, 78).join("\n")).join("\n\n");
}

/** The rpm Summary: capitalised, as rpmlint wants. */
export function rpmSummary(): string {
  return SUMMARY.charAt(0).toUpperCase() + SUMMARY.slice(1);
}

/**
 * The command names in `vmaudit --help` (the "Commands:" block).
 *
 * @example
 * helpCommands("Commands:\n  scan  Count\n  apply  Set\n\nGlobal options:\n"); // ["scan", "apply"]
 */
export function helpCommands(help: string): string[] {
  const block = /^Commands:\n((?:[ \t]+\S.*\n?)+)/m.exec(help)?.[1] ?? "";
  return block
    .split("\n")
    .map((l) => /^\s+(\S+)/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined);
}

/** The newest `GLIBC_x.y` in `readelf -V` output, or undefined. */
export function newestGlibc(readelfVersions: string): string | undefined {
  const versions = [...readelfVersions.matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)].map(
    (m) => m[1] as string,
  );
  const key = (v: string) => v.split(".").map(Number);
  versions.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const d = (x[i] ?? 0) - (y[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  });
  return versions.at(-1);
}

/**
 * Fill `@NAME@` placeholders; every placeholder must have a value, and every
 * value must be used.
 */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const out = template.replace(/@([A-Z_]+)@/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new PackagingError(`Template placeholder ${whole} has no value`);
    used.add(name);
    return v;
  });
  for (const name of Object.keys(values)) {
    if (!used.has(name)) throw new PackagingError(`Template has no @${name}@ placeholder`);
  }
  return out;
}
