/**
 * Who vmaudit runs as: the one root check. Everything that changes its
 * behaviour or its messages for root asks here.
 */

/** The effective uid; undefined where the platform has none. */
export function effectiveUid(): number | undefined {
  return process.geteuid?.();
}

/**
 * Whether vmaudit runs as root (effective uid 0).
 *
 * @example
 * isRoot(); // true under sudo
 * isRoot(1000); // false
 */
export function isRoot(euid: number | undefined = effectiveUid()): boolean {
  return euid === 0;
}
