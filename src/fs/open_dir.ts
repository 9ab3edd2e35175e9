/**
 * Open a directory that vmaudit (often root) is about to write in, without
 * following a link that another user planted on the way.
 *
 * `--prometheus /tmp/m/vmaudit.prom`, where another user made `/tmp/m` a link
 * to `/etc/cron.d`, would otherwise make root write into /etc/cron.d. Checking
 * the path first and then writing by name leaves a race; so the directory is
 * walked one component at a time with O_NOFOLLOW, each step relative to the
 * directory already open, and the caller then works relative to the open
 * directory (openat(2) semantics through /proc/self/fd, without FFI). A link
 * on the way is followed only when root, this user or the user who ran sudo
 * owns it: the same trust as the directories a root tool may write in.
 */
import { closeSync, constants, lstatSync, openSync, readlinkSync } from "node:fs";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import { effectiveUid } from "../identity.ts";
import { MAX_LINK_HOPS } from "./root_path.ts";

/**
 * O_PATH (Linux 2.6.39+; 010000000 on x86-64 and arm64, not in node's
 * constants): a step of the walk then needs only search permission on the
 * folder, as a plain open of the whole path does, not read permission.
 */
const O_PATH = 0o10000000;
const STEP_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * A path naming `name` inside the directory open as `fd`: the kernel resolves
 * /proc/self/fd/FD to that very directory, whatever happened to its path since.
 *
 * @example
 * openSync(inDir(dirFd, ".x.tmp"), "wx", 0o600);
 */
export function inDir(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/**
 * The owners whose links vmaudit follows on the way to a directory it writes
 * in: root, the effective user, and under sudo the user who ran it.
 *
 * @example
 * trustedOwners({ SUDO_UID: "1000" }); // Set {0, 0, 1000} as root
 */
export function trustedOwners(env: Record<string, string | undefined> = process.env): Set<number> {
  const owners = new Set([0]);
  const euid = effectiveUid();
  if (euid !== undefined) owners.add(euid);
  const sudo = env.SUDO_UID;
  if (euid === 0 && sudo !== undefined && /^[0-9]+$/.test(sudo)) owners.add(Number(sudo));
  return owners;
}

/**
 * A link vmaudit will not follow: one someone outside {@link trustedOwners}
 * owns, or the directory itself when the caller asked for no link there.
 */
export class RefusedLinkError extends ExitError {
  constructor(
    readonly dir: string,
    /** Why, as a clause: `it is a symlink`. */
    readonly reason: string,
  ) {
    super(EXIT_FAILURE, `Refusing to use "${dir}": ${reason}`);
    this.name = "RefusedLinkError";
  }
}

/**
 * Open directory `dir` and return its fd (O_RDONLY, or O_PATH when the
 * folder is searchable but not readable); the caller closes it. Links on the way are followed only when a trusted user owns them
 * (at most 40, then ELOOP); with `followLast: false` the last component must
 * be a directory itself, not a link. Throws {@link RefusedLinkError} for a
 * link it will not follow, and the system error (ENOENT, ENOTDIR, EACCES,
 * ELOOP) otherwise.
 *
 * @example
 * const fd = openDirNoUntrustedLinks("/var/lib/prometheus/node-exporter");
 */
export function openDirNoUntrustedLinks(
  dir: string,
  opts: { followLast?: boolean; trusted?: Set<number> } = {},
): number {
  const trusted = opts.trusted ?? trustedOwners();
  const followLast = opts.followLast ?? true;
  // Not path.resolve: `..` is taken as the kernel takes it, after links.
  const todo = (dir.startsWith("/") ? dir : `${process.cwd()}/${dir}`).split("/");
  let fd = openSync("/", STEP_FLAGS);
  let walked = "";
  let hops = 0;
  try {
    while (todo.length > 0) {
      const c = todo.shift() as string;
      if (c === "" || c === ".") continue;
      let next: number;
      try {
        next = openSync(inDir(fd, c), STEP_FLAGS);
      } catch (err) {
        const code = errnoCode(err);
        if (code !== "ENOTDIR" && code !== "ELOOP") throw err;
        const st = lstatSync(inDir(fd, c));
        if (!st.isSymbolicLink()) throw err;
        const here = `${walked}/${c}`;
        const last = todo.every((t) => t === "" || t === ".");
        if (last && !followLast) {
          throw new RefusedLinkError(dir, "it is a symlink");
        }
        if (!trusted.has(st.uid)) {
          throw new RefusedLinkError(
            dir,
            `"${here}" is a symlink owned by uid ${st.uid}, not by root or you, so another user could point it anywhere`,
          );
        }
        if (++hops > MAX_LINK_HOPS) throw Object.assign(new Error("ELOOP"), { code: "ELOOP" });
        const target = readlinkSync(inDir(fd, c));
        // A relative target goes on from the directory holding the link.
        if (target.startsWith("/")) {
          const top = openSync("/", STEP_FLAGS);
          closeSync(fd);
          fd = top;
          walked = "";
        }
        todo.unshift(...target.split("/"));
        continue;
      }
      closeSync(fd);
      fd = next;
      walked =
        c === ".." ? walked.slice(0, Math.max(0, walked.lastIndexOf("/"))) : `${walked}/${c}`;
    }
    return readable(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * The same folder opened O_RDONLY, which fsync needs, in place of the O_PATH
 * `fd`; `fd` itself when the folder is not readable (fsync of the folder is
 * best effort anyway).
 */
function readable(fd: number): number {
  let rd: number;
  try {
    rd = openSync(inDir(fd), constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return fd;
  }
  closeSync(fd);
  return rd;
}
