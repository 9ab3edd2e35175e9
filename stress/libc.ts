/**
 * The few libc calls the VMA workload needs, through bun:ffi. mmap returns
 * i64 so that MAP_FAILED (-1) is recognisable (bun-notes.md: a `ptr` return
 * hides it). It is declared `i64_fast`: user-space addresses fit in a double
 * (47 bits), so the result is a plain number and the hot loop allocates no
 * BigInt per call (heap growth would add the runtime's own mappings).
 */
import { dlopen, FFIType, read } from "bun:ffi";

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
/** Linux 4.17+: like MAP_FIXED, but fails with EEXIST instead of replacing. */
export const MAP_FIXED_NOREPLACE = 0x100000;
export const PR_SET_PDEATHSIG = 1;
export const SIGKILL = 9;
export const EEXIST = 17;

const SYMBOLS = {
  mmap: {
    args: [FFIType.u64, FFIType.u64, FFIType.i32, FFIType.i32, FFIType.i32, FFIType.i64],
    returns: FFIType.i64_fast,
  },
  munmap: { args: [FFIType.u64, FFIType.u64], returns: FFIType.i32 },
  /** The worker's own time limit: SIGALRM's default action ends the process. */
  alarm: { args: [FFIType.u32], returns: FFIType.u32 },
  prctl: {
    args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64],
    returns: FFIType.i32,
  },
  getpagesize: { args: [], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
} as const;

/** glibc first, then the musl names (Alpine builds). */
const LIBC_NAMES = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libc.so"];

function openLibc() {
  let lastError: unknown;
  for (const name of LIBC_NAMES) {
    try {
      return dlopen(name, SYMBOLS);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

export type Libc = ReturnType<typeof openLibc>["symbols"];

let cached: Libc | undefined;

/** The libc symbols, opened once. */
export function libc(): Libc {
  cached ??= openLibc().symbols;
  return cached;
}

/** The calling thread's errno, read right after a failed call. */
export function errno(): number {
  const p = libc().__errno_location();
  return p ? read.i32(p, 0) : 0;
}
