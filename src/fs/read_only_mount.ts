/**
 * Whether an open file or folder sits on a read-only mount. access(2) reports
 * EROFS for a read-only bind mount only after the permission bits pass, so a
 * user who is not root gets EACCES there (fs/open.c, do_faccessat); a dry run
 * without root asks this instead, to say what root would meet.
 */
import { readFileSync } from "node:fs";

/**
 * Whether mount `mountId` is read-only, from the text of
 * /proc/self/mountinfo (per-mount options, or the filesystem's own);
 * undefined when the mount is not listed.
 *
 * @example
 * readOnlyInMountinfo("63 43 254:0 /x /etc/sysctl.d ro,relatime - ext4 /dev/vda rw\n", 63); // true
 */
export function readOnlyInMountinfo(text: string, mountId: number): boolean | undefined {
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    if (Number(fields[0]) !== mountId || fields[0] === "") continue;
    const dash = fields.indexOf("-", 6);
    const perMount = (fields[5] ?? "").split(",");
    const perFs = dash >= 0 ? (fields[dash + 3] ?? "").split(",") : [];
    return perMount.includes("ro") || perFs.includes("ro");
  }
  return undefined;
}

/**
 * Whether the file open as `fd` is on a read-only mount; undefined when
 * /proc cannot tell.
 *
 * @example
 * isOnReadOnlyMount(dirFd); // true under `mount -o remount,bind,ro`
 */
export function isOnReadOnlyMount(fd: number): boolean | undefined {
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, "utf8");
    const id = /^mnt_id:\s*(\d+)$/m.exec(info)?.[1];
    if (id === undefined) return undefined;
    return readOnlyInMountinfo(readFileSync("/proc/self/mountinfo", "utf8"), Number(id));
  } catch {
    return undefined;
  }
}
