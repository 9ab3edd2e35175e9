/**
 * A folder's state, to prove a command changed nothing in it.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * Everything a change would touch in a folder: per entry its type, mode,
 * owner, inode, size, times (ns) and, for small files, the text. Equal
 * snapshots mean nothing was written, renamed, chmodded or chowned.
 */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, rel: string) => {
    const s = lstatSync(path, { bigint: true });
    let what = `mode=${s.mode.toString(8)} uid=${s.uid} gid=${s.gid} ino=${s.ino} size=${s.size} mtime=${s.mtimeNs} ctime=${s.ctimeNs}`;
    if (s.isSymbolicLink()) what += ` link=${readlinkSync(path)}`;
    else if (s.isFile() && s.size < 65536n) what += ` text=${readFileSync(path, "utf8")}`;
    out[rel] = what;
    if (s.isDirectory()) {
      for (const name of readdirSync(path).sort()) walk(join(path, name), `${rel}/${name}`);
    }
  };
  walk(root, ".");
  return out;
}
