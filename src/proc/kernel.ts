/**
 * Kernel-wide facts from a proc root: the current vm.max_map_count and the
 * vm_area_struct slab cache.
 */
import { closeSync, readSync } from "node:fs";
import { INT_MAX } from "../core/kernel_limits.ts";
import { errnoCode } from "../errors.ts";
import {
  describeReadCode,
  FileReadError,
  openRegular,
  readRegularFile,
  TOO_LARGE,
} from "../fs/read_regular.ts";

/** /proc/sys/vm/max_map_count holds one int: a few bytes. */
const SYSCTL_MAX_BYTES = 4096;
/** /proc/slabinfo is ~30 KB on a 6.x kernel; 4 MiB is far above any real one. */
const SLABINFO_MAX_BYTES = 4 << 20;

/** The path of the sysctl under a proc root. */
export function maxMapCountPath(procfs: string): string {
  return `${procfs}/sys/vm/max_map_count`;
}

/**
 * The current vm.max_map_count, or undefined when the file is missing or
 * unreadable (a fixture tree without sys/).
 */
export function readMaxMapCount(procfs: string): number | undefined {
  try {
    const text = readRegularFile(maxMapCountPath(procfs), SYSCTL_MAX_BYTES, { followLinks: false })
      .toString("utf8")
      .trim();
    return /^-?[0-9]+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** What a strict read of vm.max_map_count found: the value, or why there is none. */
export type LimitRead =
  | { ok: true; value: number }
  | { ok: false; problem: "unreadable"; code: string }
  | { ok: false; problem: "not-a-number"; text: string };

/**
 * The current vm.max_map_count, read strictly: the kernel prints one int
 * from 0 to INT_MAX and a newline (proc_dointvec_minmax with a minimum of 0,
 * mm/mmap.c), so anything else, such as a planted or broken file, is
 * reported as it is rather than taken for a number. `apply --at-least`
 * relies on it: a floor that read garbage as a value could skip the raise.
 *
 * @example
 * readMaxMapCountStrict("/proc"); // { ok: true, value: 65530 }
 * readMaxMapCountStrict("/tmp/fake-proc"); // { ok: false, problem: "not-a-number", text: "garbage" }
 */
export function readMaxMapCountStrict(procfs: string): LimitRead {
  let text: string;
  try {
    text = readRegularFile(maxMapCountPath(procfs), SYSCTL_MAX_BYTES, { followLinks: false })
      .toString("utf8")
      .trim();
  } catch (err) {
    return { ok: false, problem: "unreadable", code: errnoCode(err) ?? String(err) };
  }
  // At most 10 digits: no precision is lost before the range check.
  if (/^[0-9]{1,10}$/.test(text) && Number(text) <= INT_MAX)
    return { ok: true, value: Number(text) };
  return { ok: false, problem: "not-a-number", text };
}

export interface SlabCache {
  activeObjects: number;
  totalObjects: number;
  /** Bytes per object (the objsize column). */
  objsize: number;
}

/**
 * The `vm_area_struct` line of /proc/slabinfo text, or undefined.
 *
 * @example
 * parseVmaSlab("vm_area_struct  3000  3200  192  21  1 : tunables ...").objsize; // 192
 */
export function parseVmaSlab(text: string): SlabCache | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith("vm_area_struct ")) continue;
    const f = line.split(/\s+/);
    const [activeObjects, totalObjects, objsize] = [Number(f[1]), Number(f[2]), Number(f[3])];
    if ([activeObjects, totalObjects, objsize].every(Number.isFinite)) {
      return { activeObjects, totalObjects, objsize };
    }
  }
  return undefined;
}

export type SlabRead = { ok: true; slab: SlabCache } | { ok: false; reason: string };

const SLAB_LINE = "vm_area_struct ";

/**
 * /proc/slabinfo up to the end of its vm_area_struct line (or the whole
 * file when there is none). The kernel writes slabinfo as it is read, a
 * cache at a time, and vm_area_struct comes about two thirds of the way
 * down: the rest is neither made nor read.
 */
function readSlabinfoToVmaLine(path: string): string {
  const fd = openRegular(path, { followLinks: false });
  try {
    const buf = Buffer.allocUnsafe(16 * 1024);
    let text = "";
    // The start of the first line not looked at yet.
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return text;
      text += buf.toString("utf8", 0, n);
      if (text.length > SLABINFO_MAX_BYTES)
        throw new FileReadError(
          TOO_LARGE,
          `"${path}" is larger than ${SLABINFO_MAX_BYTES} bytes, more than such a file can be (EFBIG)`,
        );
      for (let end = text.indexOf("\n", pos); end !== -1; end = text.indexOf("\n", pos)) {
        if (text.startsWith(SLAB_LINE, pos) && parseVmaSlab(text.slice(pos, end)))
          return text.slice(0, end + 1);
        pos = end + 1;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Read the vm_area_struct cache from /proc/slabinfo (root only).
 */
export function readVmaSlab(procfs: string): SlabRead {
  let text: string;
  try {
    text = readSlabinfoToVmaLine(`${procfs}/slabinfo`);
  } catch (err) {
    const code = errnoCode(err);
    if (code === "EACCES" || code === "EPERM") {
      return { ok: false, reason: "/proc/slabinfo is readable only by root" };
    }
    return {
      ok: false,
      reason: `cannot read ${procfs}/slabinfo (${code ? describeReadCode(code) : "error"})`,
    };
  }
  const slab = parseVmaSlab(text);
  return slab
    ? { ok: true, slab }
    : { ok: false, reason: "no vm_area_struct cache in /proc/slabinfo" };
}
