/**
 * Read every sysctl config entry under a root, for `precedence.ts`. The only
 * I/O of the boot-time analysis; `root` is `/` on a live system, or an image
 * or a test's temp dir.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { errnoCode } from "../errors.ts";
import { resolveInRoot } from "../fs/root_path.ts";
import { type ConfigFile, PROCPS_DIRS, type SysctlReader } from "./precedence.ts";

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
 * system would see them. `host` is the link's own path on this machine when
 * `path` cannot spell it (a name that is not UTF-8).
 */
function linkTarget(
  root: string,
  path: string,
  host: string | Buffer = underRoot(root, path),
): string {
  const target = readlinkSync(host, "utf8");
  return target.startsWith("/") ? target : join(dirname(path), target);
}

const EMPTY = new Uint8Array(0);

/**
 * One entry, classified as both tools would meet it. Names are bytes: a
 * name that is not UTF-8 is read like any other (both tools do).
 * Undefined when the entry itself does not exist.
 */
function readOne(root: string, dir: string, nameBytes: Buffer): ConfigFile | undefined {
  const name = nameBytes.toString("utf8");
  const path = `${dir}/${name}`;
  const base: ConfigFile = { path, dir, name, nameBytes, kind: "file", data: EMPTY };
  let dirHost: string;
  try {
    // The directory itself may be a link in the image: resolve it inside the root.
    dirHost = resolveInRoot(root, dir);
  } catch {
    return undefined;
  }
  const entry = Buffer.concat([Buffer.from(`${dirHost}/`), nameBytes]);
  let real = path;
  let host: string | Buffer = entry;
  try {
    // Follow links inside the root ourselves (at most 40 hops, as the
    // kernel), so that an absolute link in an image does not resolve on the host.
    for (let hops = 0; lstatSync(host).isSymbolicLink(); hops++) {
      if (hops >= 40) return { ...base, kind: "missing", error: "ELOOP" };
      real = linkTarget(root, real, host);
      if (real === "/dev/null") return { ...base, kind: "null" };
      host = underRoot(root, real);
    }
  } catch (err) {
    const code = errnoCode(err);
    if (host === entry && code === "ENOENT") return undefined;
    // A dangling link: both tools fail to open it, and it still hides its name.
    if (code === "ENOENT" || code === "ENOTDIR") return { ...base, kind: "missing" };
    return { ...base, kind: "other", error: code ?? String(err) };
  }
  try {
    const st = statSync(host);
    if (st.isCharacterDevice() && real.endsWith("/null")) return { ...base, kind: "null" };
    if (st.isDirectory()) return { ...base, kind: "directory" };
    if (!st.isFile()) return { ...base, kind: "other", error: "not a regular file" };
    return { ...base, data: readFileSync(host) };
  } catch (err) {
    return { ...base, kind: "other", error: errnoCode(err) ?? String(err) };
  }
}

/**
 * Every `*.conf` entry in the sysctl.d directories (hidden ones too: procps
 * reads them), plus /etc/sysctl.conf, with target-system paths. Missing
 * directories are skipped.
 *
 * @example
 * readSysctlConfigFiles("/").map((f) => f.path);
 * // ["/etc/sysctl.d/99-sysctl.conf", "/usr/lib/sysctl.d/50-pid-max.conf", "/etc/sysctl.conf"]
 */
export function readSysctlConfigFiles(root = "/"): ConfigFile[] {
  const files: ConfigFile[] = [];
  const seenDirs = new Set<string>();
  for (const dir of PROCPS_DIRS) {
    let names: Buffer[];
    try {
      // On merged-/usr systems /lib is a link to /usr/lib: read that directory once.
      const real = resolveInRoot(root, dir);
      if (seenDirs.has(real)) continue;
      seenDirs.add(real);
      names = readdirSync(real, { encoding: "buffer" });
    } catch {
      continue;
    }
    const conf = names
      .filter((n) => n.length >= 5 && n.subarray(-5).toString("latin1") === ".conf")
      .sort(Buffer.compare);
    for (const name of conf) {
      const f = readOne(root, dir, name);
      if (f) files.push(f);
    }
  }
  const conf = readOne(root, "/etc", Buffer.from("sysctl.conf"));
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
