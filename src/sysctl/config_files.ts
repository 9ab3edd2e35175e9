/**
 * Read every sysctl config file under a root, for `precedence.ts`. The only
 * I/O of the boot-time analysis; `root` is `/` on a live system, or an image
 * or a test's temp dir.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { errnoCode } from "../errors.ts";
import { resolveInRoot } from "../fs/root_path.ts";
import { type ConfigFile, PROCPS_DIRS, SYSCTL_CONF, type SysctlReader } from "./precedence.ts";

/**
 * `path` (absolute on the target system) under `root`, its folders resolved
 * inside the root as chroot would (fs/root_path.ts); the last component is
 * not followed.
 */
export function underRoot(root: string, path: string): string {
  return resolveInRoot(root, path, { followLast: false });
}

/**
 * Where a symlink at `path` (target-system path) points, as a target-system
 * path. Absolute link targets are taken inside the root, as the target
 * system would see them.
 */
function linkTarget(root: string, path: string): string {
  const target = readlinkSync(underRoot(root, path));
  return target.startsWith("/") ? target : join(dirname(path), target);
}

function readOne(root: string, dir: string, name: string, path: string): ConfigFile | undefined {
  const base = { path, dir, name, masked: false, text: "" };
  try {
    let real = path;
    // Follow links inside the root ourselves (at most 8 hops), so that an
    // absolute link in an image does not resolve on the host.
    for (let hops = 0; lstatSync(underRoot(root, real)).isSymbolicLink(); hops++) {
      if (hops >= 8) return { ...base, error: "ELOOP" };
      real = linkTarget(root, real);
      if (real === "/dev/null") return { ...base, masked: true };
    }
    const st = statSync(underRoot(root, real));
    if (st.isCharacterDevice() && real.endsWith("/null")) return { ...base, masked: true };
    if (!st.isFile()) return undefined;
    return { ...base, text: readFileSync(underRoot(root, real), "utf8") };
  } catch (err) {
    const code = errnoCode(err);
    // A dangling link is skipped by both tools.
    if (code === "ENOENT") return undefined;
    return { ...base, error: code ?? String(err) };
  }
}

/**
 * Every `*.conf` file in the sysctl.d directories, plus /etc/sysctl.conf,
 * with target-system paths. Missing directories are skipped.
 *
 * @example
 * readSysctlConfigFiles("/").map((f) => f.path);
 * // ["/etc/sysctl.d/99-sysctl.conf", "/usr/lib/sysctl.d/50-pid-max.conf", "/etc/sysctl.conf"]
 */
export function readSysctlConfigFiles(root = "/"): ConfigFile[] {
  const files: ConfigFile[] = [];
  const seenDirs = new Set<string>();
  for (const dir of PROCPS_DIRS) {
    let names: string[];
    try {
      // On merged-/usr systems /lib is a link to /usr/lib: read that directory once.
      const real = resolveInRoot(root, dir);
      if (seenDirs.has(real)) continue;
      seenDirs.add(real);
      names = readdirSync(real);
    } catch {
      continue;
    }
    // Hidden files are skipped as systemd does (and our own temp files are hidden).
    for (const name of names.filter((n) => n.endsWith(".conf") && !n.startsWith(".")).sort()) {
      const f = readOne(root, dir, name, `${dir}/${name}`);
      if (f) files.push(f);
    }
  }
  const conf = readOne(root, "/etc", "sysctl.conf", SYSCTL_CONF);
  if (conf) files.push(conf);
  return files;
}

/**
 * The tool that applies sysctl config at boot on the target system:
 * systemd-sysctl when it is installed, else procps `sysctl --system` (as
 * OpenRC, runit and sysvinit scripts run it).
 *
 * @example
 * bootReaderOf("/"); // "systemd"
 */
export function bootReaderOf(root = "/"): SysctlReader {
  for (const p of ["/usr/lib/systemd/systemd-sysctl", "/lib/systemd/systemd-sysctl"]) {
    try {
      statSync(resolveInRoot(root, p));
      return "systemd";
    } catch {
      // not there
    }
  }
  return "procps";
}
