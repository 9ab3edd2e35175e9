/**
 * Parse /proc/PID/maps lines and sort each VMA into a group that says where
 * it comes from. Pure.
 *
 * A maps line (fs/proc/task_mmu.c show_map_vma):
 * `start-end perms offset dev inode   path`, where path is empty for anonymous
 * memory, a file path, or a bracketed name the kernel gives special areas.
 */

export interface MapsEntry {
  start: bigint;
  end: bigint;
  /** Four characters: r/w/x then p (private) or s (shared); `-` for a missing right. */
  perms: string;
  inode: string;
  /** "" for anonymous memory. */
  path: string;
}

/**
 * Parse one maps line; undefined for a line that is not one.
 *
 * @example
 * parseMapsLine("7f00-7f01 rw-p 00000000 00:00 0   [heap]")?.path; // "[heap]"
 */
export function parseMapsLine(line: string): MapsEntry | undefined {
  const m = /^([0-9a-f]+)-([0-9a-f]+) ([-r][-w][-x][ps]) [0-9a-f]+ \S+ (\d+)\s*(.*)$/.exec(line);
  if (!m) return undefined;
  return {
    start: BigInt(`0x${m[1]}`),
    end: BigInt(`0x${m[2]}`),
    perms: m[3] as string,
    inode: m[4] as string,
    path: m[5] ?? "",
  };
}

export type GroupId =
  | "anon-private"
  | "anon-shared"
  | "file"
  | "heap"
  | "main-stack"
  | "thread-stack"
  | "stack-guard"
  | "prot-none"
  | "special";

export const GROUP_LABELS: Record<GroupId, string> = {
  "anon-private": "anonymous private",
  "anon-shared": "anonymous shared",
  file: "file-backed",
  heap: "heap",
  "main-stack": "main stack",
  "thread-stack": "thread stacks",
  "stack-guard": "thread stack guard pages",
  "prot-none": "other PROT_NONE (---p) reservations and guards",
  special: "special mappings",
};

/** What a group being the biggest usually means, for the one-line hint. */
export const GROUP_MEANINGS: Record<GroupId, string> = {
  "anon-private":
    "many anonymous private mappings usually come from an allocator or runtime mapping memory piece by piece (malloc above its mmap threshold, a GC heap, JIT code, or a leak of small mmaps)",
  "anon-shared":
    "many anonymous shared mappings come from shared-memory IPC (MAP_SHARED|MAP_ANONYMOUS, SysV shm) or a pool that maps each buffer on its own",
  file: "many file-backed mappings come from mapped data files (databases, search indexes such as Lucene/Elasticsearch, memory-mapped caches) or from many shared libraries; see the top files",
  heap: "the heap is one VMA; it is rarely the cause",
  "main-stack": "the main stack is one VMA; it is rarely the cause",
  "thread-stack":
    "many thread stacks mean many threads: each costs a stack and a guard page, two VMAs; look for a thread leak or an oversized pool",
  "stack-guard":
    "many guard pages mean many threads: each thread stack has a PROT_NONE guard page below it",
  "prot-none":
    "many ---p regions come from allocator or JIT reservations (address space reserved with PROT_NONE and committed in parts, as glibc malloc arenas, JVMs, V8 and JSC do) or from guard pages",
  special: "special mappings (vdso, vvar) are a fixed handful per process",
};

/**
 * Anonymous shared memory shows as `/dev/zero (deleted)` (shmem_zero_setup),
 * `/SYSV<key> (deleted)` for SysV shm, or `[anon_shmem:NAME]` when named.
 */
function isAnonShared(e: MapsEntry): boolean {
  if (e.perms[3] !== "s") return false;
  return (
    e.path === "" ||
    e.path === "/dev/zero (deleted)" ||
    e.path.startsWith("/SYSV") ||
    e.path.startsWith("[anon_shmem:")
  );
}

/** Anonymous private memory, named (`[anon:NAME]`, PR_SET_VMA_ANON_NAME) or not. */
function isAnonPrivate(e: MapsEntry): boolean {
  return e.perms[3] === "p" && (e.path === "" || e.path.startsWith("[anon:"));
}

/** A guard page is small; bigger ---p regions are reservations. */
const MAX_GUARD_BYTES = 1_048_576n;

/**
 * The group of every entry, in order.
 *
 * Thread stacks are not labelled in maps since Linux 4.5 (the `[stack:TID]`
 * names were removed), so they are recognised by shape: glibc's
 * allocate_stack (nptl/allocatestack.c) maps a stack and turns its lowest
 * page(s) PROT_NONE, giving an anonymous `---p` guard directly below an
 * anonymous `rw-p` stack. Malloc arenas have the opposite shape (rw-p below
 * the ---p rest of their reservation), so they are not mistaken for stacks.
 * It is a heuristic: a runtime that reserves memory the same way is counted
 * as a thread.
 *
 * @example
 * classifyEntries([parseMapsLine("1000-2000 rw-p 0 00:00 0 [heap]")!]); // ["heap"]
 */
export function classifyEntries(entries: readonly MapsEntry[]): GroupId[] {
  const groups: GroupId[] = entries.map((e) => {
    if (e.path === "[heap]") return "heap";
    if (e.path === "[stack]") return "main-stack";
    if (isAnonShared(e)) return "anon-shared";
    if (isAnonPrivate(e)) return e.perms.startsWith("---") ? "prot-none" : "anon-private";
    if (e.path.startsWith("[")) return "special";
    return "file";
  });
  for (let i = 0; i + 1 < entries.length; i++) {
    const guard = entries[i] as MapsEntry;
    const stack = entries[i + 1] as MapsEntry;
    if (
      groups[i] === "prot-none" &&
      groups[i + 1] === "anon-private" &&
      stack.perms === "rw-p" &&
      guard.end === stack.start &&
      guard.end - guard.start <= MAX_GUARD_BYTES
    ) {
      groups[i] = "stack-guard";
      groups[i + 1] = "thread-stack";
    }
  }
  return groups;
}
