/**
 * A pool of one-page anonymous mappings that never merge with each other or
 * with anything else: each page sits at a fixed address with a one-page hole
 * on both sides, in a region far from the process's other mappings. Pages are
 * never touched, so they cost no RAM, only one vm_area_struct each.
 *
 * The hot path allocates nothing on the JS heap: addresses are plain numbers
 * (user-space addresses fit in 47 bits) kept in a typed array sized up front,
 * and success is a shared constant. A growing heap would make the runtime map
 * memory of its own, and the worker's VMA count would drift from the count it
 * created.
 */
import {
  EEXIST,
  errno,
  libc,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_NORESERVE,
  MAP_PRIVATE,
  PROT_READ,
} from "./libc.ts";

/**
 * Where the pool starts: 16 TiB, well above the heap and below the mmap base
 * (which sits near the top of the 47-bit user space on x86-64 and arm64).
 */
const POOL_BASE = 0x1000_0000_0000;

export type MapOutcome = { ok: true } | { ok: false; errno: number };

const OK: MapOutcome = Object.freeze({ ok: true });

export class VmaPool {
  readonly pageSize: number;
  /** Addresses of the live mappings, in creation order (the first `count` slots). */
  private addrs: Float64Array;
  private count = 0;
  private next: number;

  /**
   * @param capacity how many mappings to make room for up front; the pool
   *   grows past it, but only a pool that never grows keeps the runtime quiet.
   */
  constructor(base: number = POOL_BASE, capacity = 1024) {
    this.pageSize = libc().getpagesize();
    this.next = base;
    this.addrs = new Float64Array(Math.max(1, capacity));
  }

  /** How many mappings the pool holds. */
  get size(): number {
    return this.count;
  }

  /**
   * Map one more page. Slots already taken by someone else (EEXIST) are
   * skipped. Any other failure, ENOMEM at the limit above all, is returned
   * with its errno and nothing else is done, so the caller can react first.
   */
  mapOne(): MapOutcome {
    const c = libc();
    const page = this.pageSize;
    for (;;) {
      const addr = this.next;
      const r = c.mmap(
        addr,
        page,
        PROT_READ,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
        -1,
        0,
      );
      if (r !== -1) {
        this.next = addr + 2 * page;
        if (this.count === this.addrs.length) this.grow();
        this.addrs[this.count++] = Number(r);
        return OK;
      }
      const e = errno();
      if (e === EEXIST) {
        this.next = addr + 2 * page;
        continue;
      }
      return { ok: false, errno: e };
    }
  }

  /**
   * Unmap the newest `n` mappings. Whole mappings only: unmapping a whole VMA
   * never splits one, so it cannot fail at the limit.
   */
  release(n: number): number {
    const c = libc();
    let freed = 0;
    while (freed < n && this.count > 0) {
      const addr = this.addrs[--this.count] as number;
      c.munmap(addr, this.pageSize);
      this.next = addr;
      freed++;
    }
    return freed;
  }

  private grow(): void {
    const bigger = new Float64Array(this.addrs.length * 2);
    bigger.set(this.addrs);
    this.addrs = bigger;
  }
}
