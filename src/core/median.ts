/**
 * The median of a list of samples. Pure.
 */

/**
 * The middle value (the mean of the two middle values for an even count);
 * NaN for an empty list.
 *
 * @example
 * median([3, 1, 2]); // 2
 */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
