/**
 * One full scan: processes, kernel facts and the report. Commands that need a
 * fresh scan (scan, apply, stress, check) call this.
 */
import { readMaxMapCount, readVmaSlab } from "../proc/kernel.ts";
import { collectProcesses, type ScanBuffers } from "./collect.ts";
import { buildScanReport, type ScanOptions, type ScanReport } from "./report.ts";

export interface ScanSystemInput extends ScanOptions {
  procfs: string;
  /** Warnings to carry in the report, such as a stress journal left behind. */
  warnings?: string[];
  buffers?: ScanBuffers;
}

/**
 * Scan every process under `procfs` and build the report.
 *
 * @example
 * const report = scanSystem({ procfs: "/proc", top: 20, headroom: 1.5, round: 10000, vma: undefined, anonymiseUser: undefined });
 */
export function scanSystem(input: ScanSystemInput): ScanReport {
  const collected = collectProcesses(input.procfs, { buffers: input.buffers });
  const kernel = { maxMapCount: readMaxMapCount(input.procfs), slab: readVmaSlab(input.procfs) };
  return buildScanReport(collected, kernel, input, new Date(), input.warnings ?? []);
}
