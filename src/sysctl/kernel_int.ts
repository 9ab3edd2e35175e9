/**
 * What the kernel makes of one write(2) to /proc/sys/vm/max_map_count.
 * Pure, over bytes: the tools write the config value as it stands plus a
 * newline, and the kernel parses it.
 *
 * The sysctl is an int handled by proc_dointvec_minmax with a minimum of 0
 * (mm/mmap.c). Linux kernel/sysctl.c, __do_proc_dointvec and
 * proc_get_long:
 * - at most PAGE_SIZE - 1 bytes are looked at;
 * - leading isspace() bytes are skipped (the kernel's ctype counts 0xA0 as a
 *   space too, lib/ctype.c);
 * - an optional `-`, then a digit is required;
 * - base 0: `0x`/`0X` followed by a hex digit is hex, another leading `0` is
 *   octal, else decimal (lib/kstrtox.c, _parse_integer_fixup_radix);
 * - a number that fills the 21-byte scratch buffer is refused;
 * - the byte after the number must be a space, tab or newline (or the end):
 *   `262144 # es` and `262144 abc` are accepted as 262144, `262144abc` and
 *   `262144\r` are refused;
 * - only one int is read; whatever follows it is ignored;
 * - the value must lie in 0..INT_MAX (`-0` is 0).
 * Checked against the real kernel by test/sysctl_differential.test.ts.
 */

const PAGE_SIZE = 4096;
/** TMPBUFLEN in kernel/sysctl.c: room for 21 characters and a NUL. */
const TMPBUFLEN = 22;
const INT_MAX = 2147483647;

/** The kernel's isspace(): the C ones plus 0xA0 (lib/ctype.c marks NBSP as _S). */
function kernelSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0xa0;
}

function digitValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return 99;
}

/**
 * The value vm.max_map_count takes when `written` is written to it in one
 * write(2), or undefined when the kernel refuses it (EINVAL) and the old
 * value stays.
 *
 * @example
 * kernelParseMaxMapCount(Buffer.from("262144 # es\n")); // 262144
 * kernelParseMaxMapCount(Buffer.from("0100000\n")); // 32768 (octal)
 * kernelParseMaxMapCount(Buffer.from("262144abc\n")); // undefined
 */
export function kernelParseMaxMapCount(written: Uint8Array): number | undefined {
  const buf = written.subarray(0, PAGE_SIZE - 1);
  let i = 0;
  while (i < buf.length && kernelSpace(buf[i] ?? 0)) i++;
  if (i === buf.length) return undefined;
  const size = buf.length - i;
  // proc_get_long copies at most TMPBUFLEN - 1 bytes into its scratch buffer.
  const tmp = buf.subarray(i, i + Math.min(size, TMPBUFLEN - 1));
  let p = 0;
  const neg = tmp[0] === 0x2d && size > 1;
  if (neg) p++;
  const first = tmp[p] ?? 0;
  if (first < 0x30 || first > 0x39) return undefined;
  let base = 10;
  if (first === 0x30) {
    if (((tmp[p + 1] ?? 0) | 0x20) === 0x78 && digitValue(tmp[p + 2] ?? 0) < 16) {
      base = 16;
      p += 2;
    } else {
      base = 8;
    }
  }
  // Anything above INT_MAX is refused, whether or not it overflows an
  // unsigned long on the way, so a BigInt is not needed: stop counting at
  // INT_MAX + 2 (the conversion allows -(INT_MAX + 1) before the minimum of
  // 0 refuses it).
  let value = 0;
  for (; p < tmp.length; p++) {
    const d = digitValue(tmp[p] ?? 0);
    if (d >= base) break;
    value = Math.min(value * base + d, INT_MAX + 2);
  }
  if (p === TMPBUFLEN - 1) return undefined;
  if (p < size) {
    const next = tmp[p];
    if (next !== 0x20 && next !== 0x09 && next !== 0x0a) return undefined;
  }
  if (neg) return value === 0 ? 0 : undefined;
  return value <= INT_MAX ? value : undefined;
}
