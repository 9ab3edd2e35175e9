/**
 * Kernel-wide facts from a proc root: the current vm.max_map_count and the
 * vm_area_struct slab cache.
 */
import { errnoCode } from "../errors.ts";
import { describeReadCode, readRegularFile } from "../fs/read_regular.ts";

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

/**
 * Read the vm_area_struct cache from /proc/slabinfo (root only).
 */
export function readVmaSlab(procfs: string): SlabRead {
  let text: string;
  try {
    text = readRegularFile(`${procfs}/slabinfo`, SLABINFO_MAX_BYTES, {
      followLinks: false,
    }).toString("utf8");
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
