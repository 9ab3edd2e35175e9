/**
 * One full scan: processes, kernel facts and the report. Commands that need a
 * fresh scan (scan, apply, stress, check) call this.
 */
import { readMaxMapCount, readVmaSlab } from "../proc/kernel.ts";
import { highestPeak, readPeaksFile } from "../watch/peaks_file.ts";
import { collectProcesses, type ScanBuffers } from "./collect.ts";
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
 * const report = scanSystem({ procfs: "/proc", top: 20, headroom: 1.5, round: 10000, vma: undefined, anonymiseUser: undefined });
 */
export function scanSystem(input: ScanSystemInput): ScanReport {
  // Read the peaks file first: a bad file fails before the walk.
  const peaksFile = input.peaks === undefined ? undefined : readPeaksFile(input.peaks);
  const recordedPeak = peaksFile ? highestPeak(peaksFile) : input.recordedPeak;
  const collected = collectProcesses(input.procfs, {
    buffers: input.buffers,
    leaveOut: input.leaveOut,
  });
  const kernel = { maxMapCount: readMaxMapCount(input.procfs), slab: readVmaSlab(input.procfs) };
  return buildScanReport(
    collected,
    kernel,
    { ...input, recordedPeak },
    new Date(),
    input.warnings ?? [],
  );
}
