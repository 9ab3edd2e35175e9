/**
 * Replace a file atomically: write a temp file in the same directory, fsync
 * it, rename it over the target, fsync the directory. A crash at any point
 * leaves either the old file or the new one, never half of one. The
 * directory is reached without following links other users own
 * (fs/open_dir.ts), and everything happens relative to it once open.
 */
import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname } from "node:path";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import { isRoot } from "../identity.ts";
import { inDir, openDirNoUntrustedLinks } from "./open_dir.ts";
import { isOnReadOnlyMount } from "./read_only_mount.ts";

/**
 * Fail unless `path` is absent or a regular file. Symlinks are refused, not
 * followed: a root tool that follows a planted link can overwrite anything.
 */
export function assertRegularOrAbsent(path: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw new ExitError(EXIT_FAILURE, `Cannot check "${path}": ${errnoCode(err) ?? String(err)}`);
  }
  if (st.isSymbolicLink()) {
    throw new ExitError(
      EXIT_FAILURE,
      `Refusing to write "${path}": it is a symlink, and vmaudit does not follow links it writes through`,
    );
  }
  if (!st.isFile())
    throw new ExitError(EXIT_FAILURE, `Refusing to write "${path}": it is not a regular file`);
}

/** Who should own a written file. */
export interface FileOwner {
  uid: number;
  gid: number;
}

/** Whether the directory open as `dirFd` holds `name` as a regular file (or nothing). */
function assertRegularOrAbsentIn(dirFd: number, name: string, shown: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(inDir(dirFd, name));
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw new ExitError(EXIT_FAILURE, `Cannot check "${shown}": ${errnoCode(err) ?? String(err)}`);
  }
  if (st.isSymbolicLink()) {
    throw new ExitError(
      EXIT_FAILURE,
      `Refusing to write "${shown}": it is a symlink, and vmaudit does not follow links it writes through`,
    );
  }
  if (!st.isFile())
    throw new ExitError(EXIT_FAILURE, `Refusing to write "${shown}": it is not a regular file`);
}

/**
 * Open the folder of `path` for writing in it, refusing links planted by
 * other users on the way (fs/open_dir.ts). ExitError on failure.
 */
function openParent(path: string): number {
  try {
    return openDirNoUntrustedLinks(dirname(path));
  } catch (err) {
    if (err instanceof ExitError) throw err;
    throw new ExitError(EXIT_FAILURE, `Cannot write "${path}": ${errnoCode(err) ?? String(err)}`);
  }
}

/**
 * Atomically replace `path` with `content`, with file mode `mode` exactly
 * (the umask does not apply) and, when given, owner `owner`. The folder is
 * opened once, without following links that other users own, and the temp
 * file, the rename and the fsync all happen in that open folder.
 *
 * @example
 * writeFileAtomic("/etc/sysctl.d/90-vm_max_map_count.conf", "vm.max_map_count = 120000\n", 0o644, { uid: 0, gid: 0 });
 */
export function writeFileAtomic(
  path: string,
  content: string,
  mode = 0o644,
  owner?: FileOwner,
): void {
  const dirFd = openParent(path);
  try {
    writeFileAtomicIn(dirFd, basename(path), content, { mode, owner, shown: path });
  } finally {
    closeSync(dirFd);
  }
}

/**
 * {@link writeFileAtomic} in a directory the caller has open as `dirFd`
 * (for a caller that has checked the directory itself, as the stress
 * journal does). `shown` is the path used in messages.
 *
 * @example
 * writeFileAtomicIn(runDirFd, "limit-journal.json", text, { mode: 0o600, shown: "/run/vmaudit/limit-journal.json" });
 */
export function writeFileAtomicIn(
  dirFd: number,
  name: string,
  content: string,
  opts: { mode?: number; owner?: FileOwner; shown: string },
): void {
  const mode = opts.mode ?? 0o644;
  assertRegularOrAbsentIn(dirFd, name, opts.shown);
  const tmp = inDir(dirFd, `.${name}.vmaudit-${process.pid}-${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    // O_EXCL: a link or file already at the temp name fails, never followed.
    fd = openSync(tmp, "wx", mode);
    // open() applies the umask; a config file must be readable (0644) whatever
    // umask root's shell has.
    fchmodSync(fd, mode);
    if (opts.owner) fchownSync(fd, opts.owner.uid, opts.owner.gid);
    const data = Buffer.from(content);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, inDir(dirFd, name));
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // The temp file was never created, or is already renamed.
    }
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot write "${opts.shown}": ${errnoCode(err) ?? String(err)}`,
    );
  }
  try {
    fsyncSync(dirFd);
  } catch {
    // Best effort, as in fsyncDir.
  }
}

/**
 * Fail, with the reason, when `path` could not be written by
 * {@link writeFileAtomic}: the same checks as the write (links on the way,
 * a link or non-file at the path) plus whether its folder accepts a new file
 * (a read-only mount, an immutable folder, permissions). For a dry run, or
 * before long work whose result must not be lost.
 * - `createParents`: a missing folder is fine when the nearest existing one
 *   is writable (the caller creates the rest).
 * - `forRoot`: judge as root would, for a dry run without root: permission
 *   bits (EACCES) are not counted, a read-only mount (EROFS) and an
 *   immutable folder (EPERM) are.
 * - `why`: appended to the message.
 *
 * @example
 * assertWritable("/etc/sysctl.d/90-vm_max_map_count.conf", { createParents: true, forRoot: true });
 */
export function assertWritable(
  path: string,
  opts: { createParents?: boolean; forRoot?: boolean; why?: string } = {},
): void {
  let dir = dirname(path);
  let dirFd: number | undefined;
  while (dirFd === undefined) {
    try {
      dirFd = openDirNoUntrustedLinks(dir);
    } catch (err) {
      if (err instanceof ExitError) throw err;
      const code = errnoCode(err);
      if (code === "ENOENT" && opts.createParents && dirname(dir) !== dir) {
        dir = dirname(dir);
        continue;
      }
      throw new ExitError(
        EXIT_FAILURE,
        `Cannot write "${path}": ${code ?? String(err)}${opts.why ? `: ${opts.why}` : ""}`,
      );
    }
  }
  try {
    if (dir === dirname(path)) assertRegularOrAbsentIn(dirFd, basename(path), path);
    try {
      accessSync(inDir(dirFd), constants.W_OK);
    } catch (err) {
      let code = errnoCode(err) ?? String(err);
      // Not root: EACCES hides a read-only mount, which would stop root too.
      if (code === "EACCES" && isOnReadOnlyMount(dirFd)) code = "EROFS";
      const rootWouldPass = opts.forRoot && code === "EACCES" && !isRoot();
      if (!rootWouldPass) {
        throw new ExitError(
          EXIT_FAILURE,
          `Cannot write in "${dir}" (${code})${opts.why ? `: ${opts.why}` : ""}`,
        );
      }
    }
  } finally {
    closeSync(dirFd);
  }
}

/**
 * fsync a directory, so a rename or unlink in it survives a crash. Best
 * effort: some filesystems refuse fsync on a directory, and the change itself
 * is already done.
 *
 * @example
 * fsyncDir("/etc/sysctl.d");
 */
export function fsyncDir(dir: string): void {
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // See above: the change is done either way.
  }
}
