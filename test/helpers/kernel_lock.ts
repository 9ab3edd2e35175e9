/**
 * The shared machine lock, /tmp/vmaudit-kernel.lock (held with flock(1) by
 * whoever changes kernel state, uses /run/vmaudit or installs packages).
 *
 * `npm test` is run under `flock /tmp/vmaudit-kernel.lock`, so a test in it
 * already holds the lock through an ancestor, and taking it again would wait
 * for itself forever. `holdKernelLock` takes it only when no ancestor holds
 * it, by a `flock` child that keeps it until `release()`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";

export const KERNEL_LOCK = "/tmp/vmaudit-kernel.lock";

/** The pids holding an flock on `path`, from /proc/locks. */
export function flockHolders(path: string, locks = readFileSync("/proc/locks", "utf8")): number[] {
  if (!existsSync(path)) return [];
  const ino = statSync(path).ino;
  const pids: number[] = [];
  for (const line of locks.split("\n")) {
    // "1: FLOCK  ADVISORY  WRITE 4242 00:1f:123456 0 EOF"; a waiter's line has "->".
    const m = /^\d+:\s+FLOCK\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (m && Number(m[2]) === ino) pids.push(Number(m[1]));
  }
  return pids;
}

/** Our ancestors' pids, parent first. */
function ancestors(): number[] {
  const out: number[] = [];
  let pid = process.ppid;
  while (pid > 1 && out.length < 64) {
    out.push(pid);
    try {
      // stat: "pid (comm) state ppid ..."; comm may hold spaces and parens.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  return out;
}

export interface KernelLock {
  /** How we hold it, for the test log. */
  how: "ancestor" | "own";
  release(): void;
}

/**
 * Hold the kernel lock: at once when an ancestor holds it, else wait for it
 * (another helper's run may hold it for minutes).
 */
export async function holdKernelLock(): Promise<KernelLock> {
  const mine = new Set(ancestors());
  if (flockHolders(KERNEL_LOCK).some((pid) => mine.has(pid))) {
    return { how: "ancestor", release() {} };
  }
  const child = Bun.spawn(["flock", KERNEL_LOCK, "sh", "-c", "echo locked; exec cat >/dev/null"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  const first = await reader.read();
  reader.releaseLock();
  if (new TextDecoder().decode(first.value ?? new Uint8Array()).trim() !== "locked") {
    child.kill();
    throw new Error(`Cannot take ${KERNEL_LOCK}: flock exited with ${await child.exited}`);
  }
  return {
    how: "own",
    release() {
      child.stdin.end();
    },
  };
}
