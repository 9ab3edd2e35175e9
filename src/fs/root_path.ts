/**
 * A path of the target system under `--root DIR`, resolved the way a process
 * chrooted into DIR would see it. `/img/etc` may be an absolute link to
 * `/etc` in an image: inside the image that means `/img/etc`, never the
 * host's `/etc`. So every link met on the way is read and resolved here,
 * inside the root: an absolute target starts again at the root, and `..`
 * at the root stays there (as `..` at `/` does). systemd does the same for
 * its `--root` (src/basic/chase.c, CHASE_PREFIX_ROOT).
 */
import { lstatSync, readlinkSync } from "node:fs";
import { errnoCode } from "../errors.ts";

/** Links followed before giving up with ELOOP, as Linux's MAXSYMLINKS. */
export const MAX_LINK_HOPS = 40;

function errnoError(code: string, what: string): Error {
  return Object.assign(new Error(`${code}: ${what}`), { code });
}

function hostPath(root: string, parts: readonly string[]): string {
  const base = root.endsWith("/") ? root.slice(0, -1) : root;
  return parts.length === 0 ? base || "/" : `${base}/${parts.join("/")}`;
}

/**
 * The host path of `path` (absolute on the target system) under `root`, with
 * every link resolved inside `root`. With `followLast: false` a link as the
 * last component is left alone (as lstat and O_NOFOLLOW do), so the caller
 * can refuse it or read it. From the first component that does not exist, the
 * rest is taken as written (with `..` still kept inside the root), so that a
 * file or directory can be created there. Throws an Error with `code` ELOOP
 * after {@link MAX_LINK_HOPS} links, ENOTDIR for a non-directory in the
 * middle, and any other lstat error as is.
 *
 * @example
 * // /img/etc -> /etc (absolute)
 * resolveInRoot("/img", "/etc/sysctl.d/90-x.conf"); // "/img/etc/sysctl.d/90-x.conf"
 * resolveInRoot("/img", "/../../etc"); // "/img/etc"
 */
export function resolveInRoot(
  root: string,
  path: string,
  opts: { followLast?: boolean } = {},
): string {
  const followLast = opts.followLast ?? true;
  const todo = path.split("/").filter((c) => c !== "" && c !== ".");
  const done: string[] = [];
  /** Index in `done` of the first component that does not exist, or -1. */
  let missingAt = -1;
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift() as string;
    if (c === "." || c === "") continue;
    if (c === "..") {
      // Popping the root is a no-op: `..` at the root is the root.
      done.pop();
      // Back above the missing part: what follows exists again, and may be a link.
      if (done.length <= missingAt) missingAt = -1;
      continue;
    }
    if (missingAt >= 0) {
      done.push(c);
      continue;
    }
    const here = hostPath(root, [...done, c]);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(here);
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
      missingAt = done.length;
      done.push(c);
      continue;
    }
    const last = todo.length === 0;
    if (st.isSymbolicLink() && (followLast || !last)) {
      hops++;
      if (hops > MAX_LINK_HOPS) throw errnoError("ELOOP", `too many links under "${root}"`);
      const target = readlinkSync(here);
      if (target.startsWith("/")) done.length = 0;
      todo.unshift(...target.split("/"));
      continue;
    }
    if (!last && !st.isDirectory()) throw errnoError("ENOTDIR", `"${here}" is not a directory`);
    done.push(c);
  }
  return hostPath(root, done);
}

/**
 * `path` of the target system as the host sees it, with the root in front and
 * no link resolved: the path to show in messages and JSON.
 *
 * @example
 * withRoot("/img", "/etc/sysctl.d/90-x.conf"); // "/img/etc/sysctl.d/90-x.conf"
 * withRoot("/", "/etc/sysctl.d/90-x.conf"); // "/etc/sysctl.d/90-x.conf"
 */
export function withRoot(root: string, path: string): string {
  const base = root.endsWith("/") ? root.slice(0, -1) : root;
  return `${base}${path}`;
}
