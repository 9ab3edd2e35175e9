/**
 * Counting VMAs from the raw bytes of /proc/PID/maps without decoding them.
 * The kernel's limit applies to mm->map_count, which does not include the
 * x86-64 `[vsyscall]` gate area that show_map() appends as the last line
 * (arch/x86/entry/vsyscall/vsyscall_64.c: it is not a VMA of the mm).
 */

const NEWLINE = 10;
/** The last bytes of a maps text that tell whether it ends in `[vsyscall]`. */
export const TAIL_BYTES = 32;
const TAIL = TAIL_BYTES;
const VSYSCALL = Buffer.from(" [vsyscall]");

/**
 * Feed it chunks in order; it counts newline bytes and keeps the last few
 * bytes to recognise a final `[vsyscall]` line.
 *
 * @example
 * const c = new VmaCounter();
 * c.feed(Buffer.from("a\nb\n"), 4);
 * c.count(); // 2
 */
export class VmaCounter {
  private newlines = 0;
  private readonly tail = Buffer.alloc(TAIL);
  private tailLength = 0;

  feed(chunk: Uint8Array, length: number): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, length);
    this.newlines += countNewlines(buf, 0, length);
    if (length >= TAIL) {
      buf.copy(this.tail, 0, length - TAIL, length);
      this.tailLength = TAIL;
    } else if (length > 0) {
      const keep = Math.min(this.tailLength, TAIL - length);
      this.tail.copy(this.tail, 0, this.tailLength - keep, this.tailLength);
      buf.copy(this.tail, keep, 0, length);
      this.tailLength = keep + length;
    }
  }

  /** The number of lines seen, counting a last line without a newline. */
  lines(): number {
    if (this.tailLength === 0) return 0;
    return this.newlines + (this.tail[this.tailLength - 1] === NEWLINE ? 0 : 1);
  }

  /** Whether the last line is the `[vsyscall]` gate area. */
  endsWithVsyscall(): boolean {
    let end = this.tailLength;
    if (end > 0 && this.tail[end - 1] === NEWLINE) end--;
    if (end < VSYSCALL.length) return false;
    return this.tail.subarray(end - VSYSCALL.length, end).equals(VSYSCALL);
  }

  /** The kernel's map_count: lines, minus a final `[vsyscall]` line. */
  count(): number {
    return vmaCountOf(this.newlines, this.tail.subarray(0, this.tailLength));
  }
}

/**
 * The number of `\n` bytes in `buf[start, end)`. The search runs in a view
 * of just that range: `indexOf` on the whole buffer would go on through
 * the stale bytes after `end` (up to 1 MiB on every read of a scan).
 */
export function countNewlines(buf: Buffer, start: number, end: number): number {
  const view = buf.subarray(start, end);
  let n = 0;
  for (let i = view.indexOf(NEWLINE); i !== -1; i = view.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/**
 * The kernel's map_count of a maps text from its newline count and its last
 * bytes (up to {@link TAIL_BYTES}): the lines (a last line without a
 * newline counts), minus a final `[vsyscall]` line.
 *
 * @example
 * vmaCountOf(2, Buffer.from("a\nb\n")); // 2
 */
export function vmaCountOf(newlines: number, tail: Uint8Array): number {
  const n = tail.length;
  if (n === 0) return 0;
  const lines = newlines + (tail[n - 1] === NEWLINE ? 0 : 1);
  const end = tail[n - 1] === NEWLINE ? n - 1 : n;
  if (end < VSYSCALL.length) return lines;
  for (let i = 0; i < VSYSCALL.length; i++)
    if (tail[end - VSYSCALL.length + i] !== VSYSCALL[i]) return lines;
  return lines - 1;
}

/**
 * The VMA count of a whole maps text held in memory.
 *
 * @example
 * countVmas(Buffer.from("a\nffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n")); // 1
 */
export function countVmas(bytes: Uint8Array): number {
  const counter = new VmaCounter();
  counter.feed(bytes, bytes.length);
  return counter.count();
}
