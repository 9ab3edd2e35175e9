/**
 * Replace a file atomically: write a temp file in the same directory, fsync
 * it, rename it over the target, fsync the directory. A crash at any point
 * leaves either the old file or the new one, never half of one.
 */
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";

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

/**
 * Atomically replace `path` with `content`, with file mode `mode` exactly
 * (the umask does not apply) and, when given, owner `owner`.
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
  assertRegularOrAbsent(path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.vmaudit-${process.pid}-${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", mode);
    // open() applies the umask; a config file must be readable (0644) whatever
    // umask root's shell has.
    fchmodSync(fd, mode);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    const data = Buffer.from(content);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // The temp file was never created, or is already renamed.
    }
    throw new ExitError(EXIT_FAILURE, `Cannot write "${path}": ${errnoCode(err) ?? String(err)}`);
  }
  fsyncDir(dir);
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
