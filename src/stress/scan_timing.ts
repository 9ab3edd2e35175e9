/**
 * Timing scans of the worker's maps at a checkpoint, with scan's own reader
 * (proc/maps.ts), so the numbers are what a real scan pays per VMA.
 */
import { median } from "../core/median.ts";
import { EXIT_FAILURE, ExitError } from "../errors.ts";
import { readMapsCount } from "../proc/maps.ts";
import type { ScanTiming } from "./report.ts";

/**
 * Time `repeat` reads of one maps file with scan's own counting code.
 *
 * @example
 * timeMapsScans("/proc/self/maps", 5, Buffer.alloc(1 << 20)).medianMs;
 */
export function timeMapsScans(
  path: string,
  repeat: number,
  buf: Buffer,
): ScanTiming & { vmas: number[] } {
  const ms: number[] = [];
  const vmas: number[] = [];
  let bytes = 0;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    const r = readMapsCount(path, buf);
    ms.push(performance.now() - t0);
    if (r.kind !== "ok") throw new ExitError(EXIT_FAILURE, `Cannot read "${path}": ${r.kind}`);
    vmas.push(r.vmas);
    bytes = r.bytes;
  }
  const medianMs = median(ms);
  return {
    repeat,
    medianMs,
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    usPerVma: (medianMs * 1000) / (vmas[0] ?? 1),
    bytes,
    vmas,
  };
}
