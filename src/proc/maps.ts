/**
 * Reading /proc/PID/maps: the one hot path of every scan. Synchronous reads
 * into one reused buffer were measured faster than async ones (bun-notes.md),
 * and /proc files report size 0, so we read until EOF.
 *
 * A `--procfs` tree may hold a FIFO or a device where maps should be: the
 * file is opened non-blocking without following links and refused unless
 * fstat says it is regular (fs/read_regular.ts), and a count is bounded.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { countNewlines, TAIL_BYTES, vmaCountOf } from "../core/vma_counter.ts";
import { errnoCode } from "../errors.ts";
import { NOT_REGULAR, PROC_READ_FLAGS, readRegularFile, TOO_LARGE } from "../fs/read_regular.ts";

/**
 * 1 MiB. procfs gives at most a page per read of maps (seq_file), whatever
 * the buffer, so this matters for files of fixture trees, read in few calls.
 */
export const READ_BUFFER_BYTES = 1 << 20;
const NEWLINE = 10;

/**
 * More lines than any process can have: the limit is a C int and a process
 * can reach limit + 1 VMAs, plus the [vsyscall] line. A longer "maps" is not
 * one (a sparse file in a fake tree), and the count stops there.
 */
export const MAX_MAPS_LINES = 2 ** 31 + 1;

/**
 * The most maps text `inspect` holds in memory: 512 MiB, about 7 million
 * lines of anonymous mappings (maps lines are ~70 bytes; longer with paths).
 */
export const MAPS_TEXT_MAX_BYTES = 512 << 20;

/** Why a maps file gave no lines: shared by every reader of maps. */
export type MapsFailure =
  /** Empty maps: a kernel thread, or a zombie that has released its mm. */
  | { kind: "empty" }
  | { kind: "denied"; code: string }
  | { kind: "vanished"; code: string }
  | { kind: "error"; code: string };

/**
 * `uid` owns the maps file, which is the process's owner: procfs gives every
 * file of /proc/PID the owner of the directory (fs/proc/base.c,
 * task_dump_owner), so a scan needs no stat of its own for it.
 */
export type MapsResult = { kind: "ok"; vmas: number; bytes: number; uid: number } | MapsFailure;

/** Sort an errno into denied (EACCES, EPERM), vanished (ENOENT, ESRCH) or other. */
export function classifyErrno(code: string): "denied" | "vanished" | "error" {
  if (code === "EACCES" || code === "EPERM") return "denied";
  if (code === "ENOENT" || code === "ESRCH") return "vanished";
  return "error";
}

/**
 * Count the VMAs in one maps file. Never throws for the expected errors: a
 * process that exits or refuses is classified, not fatal.
 *
 * The hot path of every scan, so it allocates nothing: each read goes into
 * `buf` after its first TAIL_BYTES, which hold the last bytes read so far
 * (moved there after each read), and the count comes from the newlines and
 * those last bytes (core/vma_counter.ts).
 *
 * @example
 * readMapsCount("/proc/self/maps", Buffer.alloc(READ_BUFFER_BYTES));
 */
export function readMapsCount(path: string, buf: Buffer): MapsResult {
  let fd: number;
  try {
    fd = openSync(path, PROC_READ_FLAGS);
  } catch (err) {
    const code = errnoCode(err) ?? "EUNKNOWN";
    return { kind: classifyErrno(code), code };
  }
  let newlines = 0;
  let bytes = 0;
  let uid = 0;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: "error", code: st.isDirectory() ? "EISDIR" : NOT_REGULAR };
    uid = st.uid;
    for (;;) {
      const n = readSync(fd, buf, TAIL_BYTES, buf.length - TAIL_BYTES, null);
      if (n === 0) break;
      bytes += n;
      newlines += countNewlines(buf, TAIL_BYTES, TAIL_BYTES + n);
      const lines = newlines + (buf[TAIL_BYTES + n - 1] === NEWLINE ? 0 : 1);
      if (lines > MAX_MAPS_LINES) return { kind: "error", code: TOO_LARGE };
      buf.copyWithin(0, n, n + TAIL_BYTES);
    }
  } catch (err) {
    const code = errnoCode(err) ?? "EUNKNOWN";
    return { kind: classifyErrno(code), code };
  } finally {
    closeSync(fd);
  }
  if (bytes === 0) return { kind: "empty" };
  const tail = Math.min(bytes, TAIL_BYTES);
  return {
    kind: "ok",
    vmas: vmaCountOf(newlines, buf.subarray(TAIL_BYTES - tail, TAIL_BYTES)),
    bytes,
    uid,
  };
}

export type MapsTextResult = { kind: "ok"; text: string } | MapsFailure;

/**
 * The whole maps text of one process, for `inspect` (which needs the lines,
 * not just their count). Errors are classified like {@link readMapsCount}.
 *
 * @example
 * readMapsText("/proc/self/maps").kind; // "ok"
 */
export function readMapsText(path: string): MapsTextResult {
  let text: string;
  try {
    // UTF-8 like cmdline: file names are shown and exported as the user
    // named them (latin1 turned a UTF-8 name into mojibake in JSON too).
    text = readRegularFile(path, MAPS_TEXT_MAX_BYTES, { followLinks: false }).toString("utf8");
  } catch (err) {
    const code = errnoCode(err) ?? "EUNKNOWN";
    return { kind: classifyErrno(code), code };
  }
  return text.length === 0 ? { kind: "empty" } : { kind: "ok", text };
}
