/**
 * One full scan: processes, kernel facts and the report. Commands that need a
 * fresh scan (scan, apply, stress, check) call this; those that need only the
 * busiest process call `scanForBusiest` and `busiestOf`.
 */
import { DEFAULT_HEADROOM, DEFAULT_ROUND } from "../core/recommend.ts";
import type { BusiestProcess } from "../limit/guards.ts";
import { highestPeak, readPeaksFile } from "../peaks/peaks_file.ts";
import { collectProcesses, type ScanBuffers } from "../proc/collect.ts";
import { hostnameMayBeOwn, hostnamePath, readHostIdentity } from "../proc/host.ts";
import { readMaxMapCount, readVmaSlab } from "../proc/kernel.ts";
import { invokingUser } from "../proc/users.ts";
import { buildScanReport, type ScanOptions, type ScanReport } from "./report.ts";

export interface ScanSystemInput extends ScanOptions {
  procfs: string;
  /** Warnings to carry in the report, such as a stress journal left behind. */
  warnings?: string[];
  buffers?: ScanBuffers;
  /** A peaks file (`--peaks`) to add a recommendation from. */
  peaks?: string | undefined;
  /** Pids to leave out besides vmaudit itself (the stress worker). */
  leaveOut?: readonly number[];
}

/**
 * Scan every process under `procfs` and build the report.
 *
 * @example
 * const report = scanSystem({ procfs: "/proc", top: 20, headroom: 1.5, round: 10000, vma: undefined, anonymizeUser: undefined });
 */
export function scanSystem(input: ScanSystemInput): ScanReport {
  // Read the peaks file first: a bad file fails before the walk.
  const peaksFile = input.peaks === undefined ? undefined : readPeaksFile(input.peaks);
  const recordedPeak = peaksFile ? highestPeak(peaksFile) : input.recordedPeak;
  const collected = collectProcesses(input.procfs, {
    buffers: input.buffers,
    leaveOut: input.leaveOut,
  });
  const identity = readHostIdentity(input.procfs);
  const kernel = {
    maxMapCount: readMaxMapCount(input.procfs),
    slab: readVmaSlab(input.procfs),
    identity,
  };
  const warnings = [...(input.warnings ?? [])];
  if (identity.host !== null && hostnameMayBeOwn(input.procfs))
    warnings.push(ownHostnameWarning(identity.host, input.procfs));
  return buildScanReport(collected, kernel, { ...input, recordedPeak }, new Date(), warnings);
}

/**
 * The warning for a host name that may be a container's own (see
 * proc/host.ts): the kernel answers from the reader's UTS namespace.
 *
 * @example
 * ownHostnameWarning("a1b2c3", "/host/proc");
 */
export function ownHostnameWarning(host: string, procfs: string): string {
  return `The host name "${host}" may be this container's own, not the scanned host's: ${hostnamePath(procfs)} answers from the UTS namespace of the process reading it, and vmaudit's differs from that of ${procfs}/1; run it in the host's UTS namespace (podman or docker --uts=host) to report the host's name`;
}

/** The options of a command that scans: --procfs, --top and the recommendation settings. */
export type ScanCommandOptions = Pick<
  ScanSystemInput,
  "procfs" | "top" | "headroom" | "round" | "vma" | "peaks"
>;

/**
 * A command's scan options as the input of {@link scanSystem}, with the
 * invoking user's name to hide (from the real uid, see proc/users.ts).
 *
 * @example
 * scanInputOf({ procfs: "/proc", top: 20, headroom: 1.5, round: 10000, vma: undefined, peaks: undefined }, process.env);
 */
export function scanInputOf(
  options: ScanCommandOptions,
  env: Record<string, string | undefined>,
): ScanSystemInput {
  const { procfs, top, headroom, round, vma, peaks } = options;
  return { procfs, top, headroom, round, vma, peaks, anonymizeUser: invokingUser(env) };
}

/** The recommendation settings a command passes on to a scan: --headroom, --round, --vma, --peaks. */
export type RecommendSettings = Pick<ScanSystemInput, "headroom" | "round" | "vma" | "peaks">;

/**
 * A scan with the default recommendation settings that lists only the
 * busiest process: what the guards, `check` and `stress` need.
 *
 * @example
 * busiestOf(scanForBusiest("/proc"))?.vmas;
 */
export function scanForBusiest(
  procfs: string,
  extra: Pick<ScanSystemInput, "anonymizeUser" | "leaveOut"> = { anonymizeUser: undefined },
): ScanReport {
  return scanSystem({
    procfs,
    top: 1,
    headroom: DEFAULT_HEADROOM,
    round: DEFAULT_ROUND,
    vma: undefined,
    ...extra,
  });
}

/**
 * The process with the most VMAs in a scan, or undefined when none was read.
 *
 * @example
 * busiestOf(report); // { pid: 1234, app: "java", vmas: 54321 }
 */
export function busiestOf(report: ScanReport): BusiestProcess | undefined {
  const top = report.topProcesses[0];
  return top ? { pid: top.pid, app: top.app, vmas: top.vmas } : undefined;
}

/**
 * The busiest process now, from a fresh scan: what the below-peak guard
 * compares a new limit with.
 *
 * @example
 * findBusiest("/proc")?.pid;
 */
export function findBusiest(procfs: string): BusiestProcess | undefined {
  return busiestOf(scanForBusiest(procfs));
}
