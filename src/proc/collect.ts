/**
 * The I/O half of a scan: walk a proc root and read every process's VMA count,
 * argv and owner. Everything after this is pure (report.ts).
 */
import { readlinkSync, statSync } from "node:fs";
import { exeNeededForApp } from "../core/app_name.ts";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import { isRoot } from "../identity.ts";
import { READ_BUFFER_BYTES, readMapsCount } from "./maps.ts";
import { isKernelThread, listPids, readArgv, readComm, readExe } from "./process.ts";
import { loadUsers } from "./users.ts";

export interface ProcessSample {
  pid: number;
  vmas: number;
  uid: number | undefined;
  user: string;
  /** From cmdline; empty when the process has none. */
  argv: string[];
  /** From comm, read only when argv is empty. */
  comm: string | undefined;
  /** Where /proc/PID/exe points; read only when an argument ends in .exe (Wine or not). */
  exe?: string;
}

export interface Coverage {
  /** Pids listed under the proc root. */
  seen: number;
  /** Processes whose VMAs were counted. */
  scanned: number;
  /** Permission denied (EACCES/EPERM): run as root to see them. */
  unreadable: number;
  /** The first few unreadable processes, named (comm is null when it cannot be read either). */
  unreadableProcesses: { pid: number; comm: string | null }[];
  /** Exited between the listing and the read (ENOENT/ESRCH, zombies). */
  vanished: number;
  /** Kernel threads have no mm; skipped, not errors. */
  kernelThreads: number;
  /** Any other read error, by errno. */
  errors: Record<string, number>;
  /**
   * Left out of the report: vmaudit's own process (and the stress worker it
   * started), which would otherwise name itself as the busiest process.
   */
  self: number;
}

/** How many unreadable processes coverage names; beyond that only the count matters. */
export const NAMED_UNREADABLE_MAX = 5;

/**
 * The pid of this process as `procfs` numbers it, from its `self` link; undefined
 * for a proc tree that is not a live procfs (a test fixture has no `self`).
 */
export function selfPid(procfs: string): number | undefined {
  try {
    const target = readlinkSync(`${procfs}/self`);
    return /^[0-9]+$/.test(target) ? Number(target) : undefined;
  } catch {
    return undefined;
  }
}

export interface Collected {
  procfs: string;
  samples: ProcessSample[];
  coverage: Coverage;
  /** Wall time of the walk, in milliseconds. */
  durationMs: number;
  /** Whether the walk ran as root (then "permission denied" means a protected process). */
  asRoot: boolean;
}

/**
 * Fail with a clear message when `procfs` is missing or not a proc tree.
 */
export function assertProcRoot(procfs: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(procfs).isDirectory();
  } catch (err) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot scan "${procfs}": ${errnoCode(err) ?? "cannot stat it"}`,
    );
  }
  if (!isDir) throw new ExitError(EXIT_FAILURE, `Cannot scan "${procfs}": not a directory`);
}

/** Reused buffers, so a scan allocates almost nothing per process. */
export interface ScanBuffers {
  maps: Buffer;
  small: Buffer;
}

export function newScanBuffers(): ScanBuffers {
  return { maps: Buffer.allocUnsafe(READ_BUFFER_BYTES), small: Buffer.allocUnsafe(64 * 1024) };
}

/**
 * Read every process under `procfs`.
 *
 * @example
 * const { samples, coverage } = collectProcesses("/proc");
 */
export function collectProcesses(
  procfs = "/proc",
  opts: {
    passwd?: string;
    buffers?: ScanBuffers;
    /** Pids to leave out besides vmaudit itself, such as the stress worker. */
    leaveOut?: readonly number[];
  } = {},
): Collected {
  assertProcRoot(procfs);
  const started = performance.now();
  const pids = listPids(procfs);
  if (pids.length === 0) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot scan "${procfs}": no process directories, so it is not a proc tree`,
    );
  }
  const users = loadUsers(opts.passwd);
  const { maps, small } = opts.buffers ?? newScanBuffers();
  const coverage: Coverage = {
    seen: pids.length,
    scanned: 0,
    unreadable: 0,
    unreadableProcesses: [],
    vanished: 0,
    kernelThreads: 0,
    errors: {},
    self: 0,
  };
  const self = selfPid(procfs);
  const leaveOut = new Set(opts.leaveOut ?? []);
  if (self !== undefined) leaveOut.add(self);
  const samples: ProcessSample[] = [];

  for (const pid of pids) {
    const result = readMapsCount(`${procfs}/${pid}/maps`, maps);
    switch (result.kind) {
      case "denied":
        coverage.unreadable++;
        if (coverage.unreadableProcesses.length < NAMED_UNREADABLE_MAX)
          coverage.unreadableProcesses.push({ pid, comm: readComm(procfs, pid, small) ?? null });
        continue;
      case "vanished":
        coverage.vanished++;
        continue;
      case "error":
        coverage.errors[result.code] = (coverage.errors[result.code] ?? 0) + 1;
        continue;
      case "empty":
        // Kernel threads have no mm. A non-kernel process with empty maps is a
        // zombie or was exiting: it vanished for our purposes.
        if (isKernelThread(procfs, pid, small)) coverage.kernelThreads++;
        else coverage.vanished++;
        continue;
      case "ok": {
        // Read like any other (a stress run times this walk with its worker
        // in it), but not reported.
        if (leaveOut.has(pid)) {
          coverage.self++;
          continue;
        }
        const uid = result.uid;
        const argv = readArgv(procfs, pid, small);
        const comm = argv.length === 0 ? readComm(procfs, pid, small) : undefined;
        const user = uid === undefined ? "?" : (users.get(uid) ?? String(uid));
        const exe = exeNeededForApp(argv) ? readExe(procfs, pid) : undefined;
        samples.push({ pid, vmas: result.vmas, uid, user, argv, comm, ...(exe ? { exe } : {}) });
        coverage.scanned++;
      }
    }
  }
  return {
    procfs,
    samples,
    coverage,
    durationMs: performance.now() - started,
    asRoot: isRoot(),
  };
}
