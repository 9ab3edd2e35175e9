/**
 * A pool of one-page anonymous mappings that never merge with each other or
 * with anything else: each page sits at a fixed address with a one-page hole
 * on both sides, in a region far from the process's other mappings. Pages are
 * never touched, so they cost no RAM, only one vm_area_struct each.
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
const POOL_BASE = 0x1000_0000_0000n;

export type MapOutcome = { ok: true } | { ok: false; errno: number };

export class VmaPool {
  readonly pageSize: number;
  /** Addresses of the live mappings, in creation order. */
  private readonly addrs: bigint[] = [];
  private next: bigint;

  constructor(base: bigint = POOL_BASE) {
    this.pageSize = libc().getpagesize();
    this.next = base;
  }

  /** How many mappings the pool holds. */
  get size(): number {
    return this.addrs.length;
  }

  /**
   * Map one more page. Slots already taken by someone else (EEXIST) are
   * skipped. Any other failure, ENOMEM at the limit above all, is returned
   * with its errno and nothing else is done, so the caller can react first.
   */
  mapOne(): MapOutcome {
    const c = libc();
    const step = BigInt(this.pageSize) * 2n;
    for (;;) {
      const addr = this.next;
      const r = c.mmap(
        addr,
        BigInt(this.pageSize),
        PROT_READ,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
        -1,
        0n,
      );
      if (r !== -1n) {
        this.next = addr + step;
        this.addrs.push(BigInt(r));
        return { ok: true };
      }
      const e = errno();
      if (e === EEXIST) {
        this.next = addr + step;
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
    while (freed < n && this.addrs.length > 0) {
      const addr = this.addrs.pop() as bigint;
      c.munmap(addr, BigInt(this.pageSize));
      this.next = addr;
      freed++;
    }
    return freed;
  }
}
