/**
 * Small reads of per-process files under a proc root: the pid list, cmdline,
 * comm and kernel-thread flag.
 */
import { closeSync, readdirSync, readlinkSync, readSync } from "node:fs";
import { parseCmdline } from "../core/app_name.ts";
import { PID_MAX_LIMIT } from "../core/kernel_limits.ts";
import { openRegular } from "../fs/read_regular.ts";

/** include/linux/sched.h: PF_KTHREAD, "I am a kernel thread". */
const PF_KTHREAD = 0x00200000;

/**
 * Whether a /proc entry name is a pid as the kernel writes it: decimal, no
 * leading zero, 1 to PID_MAX_LIMIT. `0123` or `99999999999999999999` in a
 * fake tree is not a process (and its path would not round-trip).
 *
 * @example
 * isPidName("123"); // true
 * isPidName("0123"); // false
 */
export function isPidName(name: string): boolean {
  return /^[1-9][0-9]{0,6}$/.test(name) && Number(name) <= PID_MAX_LIMIT;
}

/**
 * The numeric entries of a proc root, in ascending order.
 *
 * @example
 * listPids("/proc").includes(1); // true
 */
export function listPids(procfs: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(procfs)) {
    const c = name.charCodeAt(0);
    if (c >= 49 && c <= 57 && isPidName(name)) pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
}

/**
 * Read a small file into `buf` (at most its length); undefined when it
 * cannot be read or is not a regular file (a FIFO or device in a fake tree).
 */
export function readSmall(path: string, buf: Buffer): Buffer | undefined {
  let fd: number;
  try {
    fd = openRegular(path, { followLinks: false });
  } catch {
    return undefined;
  }
  try {
    let len = 0;
    for (;;) {
      if (len === buf.length) break;
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    return buf.subarray(0, len);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The argv of a process, or [] when cmdline is empty or unreadable. */
export function readArgv(procfs: string, pid: number, buf: Buffer): string[] {
  const bytes = readSmall(`${procfs}/${pid}/cmdline`, buf);
  return bytes ? parseCmdline(bytes) : [];
}

/**
 * Where /proc/PID/exe points, or undefined when it cannot be read: EACCES for
 * another user's process without root (the same ptrace check as maps),
 * ENOENT for a kernel thread or a process that exited.
 *
 * @example
 * readExe("/proc", process.pid); // "/usr/local/bin/vmaudit"
 */
export function readExe(procfs: string, pid: number): string | undefined {
  try {
    return readlinkSync(`${procfs}/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** The `comm` name of a process, or undefined. */
export function readComm(procfs: string, pid: number, buf: Buffer): string | undefined {
  const bytes = readSmall(`${procfs}/${pid}/comm`, buf);
  const comm = bytes?.toString("utf8").replace(/\n$/, "");
  return comm ? comm : undefined;
}

/**
 * Whether a pid is a kernel thread, from the flags field of /proc/PID/stat.
 * Undefined when stat cannot be read (the process is gone).
 */
export function isKernelThread(procfs: string, pid: number, buf: Buffer): boolean | undefined {
  const bytes = readSmall(`${procfs}/${pid}/stat`, buf);
  if (!bytes) return undefined;
  const text = bytes.toString("latin1");
  // comm is in parentheses and may hold spaces; fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // After comm: state(3) ppid pgrp session tty_nr tpgid flags(9) -> index 6.
  const flags = Number(fields[6]);
  return Number.isFinite(flags) ? (flags & PF_KTHREAD) !== 0 : undefined;
}

/**
 * The resident set size of a process in bytes, from the VmRSS line of
 * /proc/PID/status; undefined when it cannot be read.
 *
 * @example
 * readRssBytes("/proc", process.pid); // 41943040
 */
export function readRssBytes(procfs: string, pid: number, buf: Buffer): number | undefined {
  const text = readSmall(`${procfs}/${pid}/status`, buf)?.toString("latin1");
  const kb = text ? /^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] : undefined;
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/** CAP_SYS_PTRACE's bit (include/uapi/linux/capability.h). */
export const CAP_SYS_PTRACE = 19;

/**
 * Whether this process holds a capability in its effective set, from the
 * `CapEff:` line of /proc/self/status (a hex mask); false when that cannot
 * be read.
 *
 * @example
 * hasEffectiveCapability(CAP_SYS_PTRACE); // true for root, or with AmbientCapabilities=CAP_SYS_PTRACE
 */
export function hasEffectiveCapability(bit: number, status = "/proc/self/status"): boolean {
  const text = readSmall(status, Buffer.allocUnsafe(8192))?.toString("latin1");
  const hex = text === undefined ? undefined : /^CapEff:\s*([0-9a-f]+)$/m.exec(text)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n;
}
