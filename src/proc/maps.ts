/**
 * Reading /proc/PID/maps: the one hot path of every scan. Synchronous reads
 * into one reused buffer were measured faster than async ones (bun-notes.md),
 * and /proc files report size 0, so we read until EOF.
 */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { VmaCounter } from "../core/vma_counter.ts";
import { errnoCode } from "../errors.ts";

/** 1 MiB: far above the 64 KiB minimum, so a 60k-VMA process needs ~3 reads. */
export const READ_BUFFER_BYTES = 1 << 20;

/** Why a maps file gave no lines: shared by every reader of maps. */
export type MapsFailure =
  /** Empty maps: a kernel thread, or a zombie that has released its mm. */
  | { kind: "empty" }
  | { kind: "denied"; code: string }
  | { kind: "vanished"; code: string }
  | { kind: "error"; code: string };

export type MapsResult = { kind: "ok"; vmas: number; bytes: number } | MapsFailure;

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
 * @example
 * readMapsCount("/proc/self/maps", Buffer.alloc(READ_BUFFER_BYTES));
 */
export function readMapsCount(path: string, buf: Buffer): MapsResult {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    const code = errnoCode(err) ?? "EUNKNOWN";
    return { kind: classifyErrno(code), code };
  }
  const counter = new VmaCounter();
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      bytes += n;
      counter.feed(buf, n);
    }
  } catch (err) {
    const code = errnoCode(err) ?? "EUNKNOWN";
    return { kind: classifyErrno(code), code };
  } finally {
    closeSync(fd);
  }
  if (bytes === 0) return { kind: "empty" };
  return { kind: "ok", vmas: counter.count(), bytes };
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
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = errnoCode(err) ?? "EUNKNOWN";
    return { kind: classifyErrno(code), code };
  }
  return text.length === 0 ? { kind: "empty" } : { kind: "ok", text };
}
