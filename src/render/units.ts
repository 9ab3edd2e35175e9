/**
 * Number formatting for humans. Pure.
 */

/**
 * Bytes in binary units with one decimal.
 *
 * @example
 * formatBytes(201326592); // "192.0 MiB"
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A percentage with one decimal.
 *
 * @example
 * formatPercent(8.4321); // "8.4%"
 */
export function formatPercent(p: number): string {
  return `${p.toFixed(1)}%`;
}

/**
 * A count with its noun, singular for 1. Numbers are written without
 * thousands separators everywhere, as the kernel and sysctl write them, so a
 * value can be pasted into `apply VALUE` or `--vma N`.
 *
 * @example
 * formatCount(1, "process", "processes"); // "1 process"
 * formatCount(65530, "VMA", "VMAs"); // "65530 VMAs"
 */
export function formatCount(n: number, singular: string, plural: string): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
