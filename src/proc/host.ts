/**
 * Which machine and which boot a proc tree belongs to: the host name, the
 * kernel release and the boot id, so that a scan report says where it was
 * made and `vmaudit fleet` can tell hosts and boots apart.
 *
 * Kernel facts (Linux 6.x):
 * - `sys/kernel/hostname` and `sys/kernel/osrelease` come from the UTS
 *   namespace of the process that reads them, not from the proc mount
 *   (kernel/utsname_sysctl.c `get_uts` uses `current->nsproxy->uts_ns`). A
 *   container with its own UTS namespace that reads the host's /proc
 *   mounted at /host/proc gets its own name there; it must share the
 *   host's UTS namespace (`--uts=host`; in Kubernetes `hostNetwork: true`)
 *   to see the host's. The release is the same in every namespace.
 * - `sys/kernel/random/boot_id` is one random UUID per boot, the same in
 *   every namespace (drivers/char/random.c `proc_do_uuid`, the global
 *   `sysctl_bootid`).
 */
import { readlinkSync } from "node:fs";
import { readRegularFile } from "../fs/read_regular.ts";

/** A host name and a release are at most 64 bytes (`__NEW_UTS_LEN`); this leaves room for anything planted. */
const IDENTITY_MAX_BYTES = 4096;

export interface HostIdentity {
  /** The host name, or null when the file is missing, empty or unreadable. */
  host: string | null;
  kernelRelease: string | null;
  bootId: string | null;
}

export function hostnamePath(procfs: string): string {
  return `${procfs}/sys/kernel/hostname`;
}

/** One line the kernel wrote (its newline dropped), or null when missing, empty or not a regular file. */
function readKernelLine(path: string): string | null {
  try {
    const text = readRegularFile(path, IDENTITY_MAX_BYTES, { followLinks: false })
      .toString("utf8")
      .replace(/\n$/, "");
    return text === "" ? null : text;
  } catch {
    return null;
  }
}

/**
 * The host name, kernel release and boot id of a proc tree; each is null
 * when it cannot be read (a fixture tree without `sys/kernel`).
 *
 * @example
 * readHostIdentity("/proc"); // { host: "web-1", kernelRelease: "6.1.0-18-amd64", bootId: "d95a34f9-..." }
 */
export function readHostIdentity(procfs: string): HostIdentity {
  return {
    host: readKernelLine(hostnamePath(procfs)),
    kernelRelease: readKernelLine(`${procfs}/sys/kernel/osrelease`),
    bootId: readKernelLine(`${procfs}/sys/kernel/random/boot_id`),
  };
}

/**
 * Whether the host name read under `procfs` may be this process's own
 * (a container's) rather than the scanned host's: `procfs` is another proc
 * mount than /proc, and its pid 1 lives in another UTS namespace than this
 * process. Undefined when that cannot be told (no `1/ns/uts` in the tree,
 * or no permission to read it).
 *
 * The scan of the system's own /proc is never flagged: a service in a
 * private UTS namespace (systemd's ProtectHostname=yes) has a copy of the
 * host's name.
 *
 * @example
 * hostnameMayBeOwn("/host/proc"); // true in a container with its own UTS namespace
 */
export function hostnameMayBeOwn(procfs: string): boolean | undefined {
  if (procfs === "/proc") return false;
  try {
    return readlinkSync(`${procfs}/1/ns/uts`) !== readlinkSync("/proc/self/ns/uts");
  } catch {
    return undefined;
  }
}
