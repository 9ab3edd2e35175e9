/**
 * Spawning the stress worker (the same binary, hidden subcommand) and
 * reading its messages. The adapter between the harness and a child process.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";
import {
  CONTINUE,
  parseMessage,
  WORKER_COMMAND,
  type WorkerMessage,
  type WorkerPlan,
  workerArgs,
} from "../../stress/contract.ts";

/**
 * The argv that starts the worker. Compiled, `process.execPath` is vmaudit
 * itself; from source (`bun main.ts`) it is bun, which needs the script.
 *
 * @example
 * workerArgv(plan)[0] === process.execPath; // true
 * workerArgv(plan, "dist/vmaudit")[1]; // "__stress-worker"
 */
export function workerArgv(plan: WorkerPlan, executable?: string): string[] {
  // Compiled binaries run their entry from Bun's embedded filesystem.
  const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
  const entry = compiled || executable ? [] : [join(import.meta.dir, "..", "..", "main.ts")];
  return [executable ?? process.execPath, ...entry, WORKER_COMMAND, ...workerArgs(plan)];
}

/**
 * JavaScriptCore options for the worker (read from BUN_JSC_* at start-up).
 * Measured: with the defaults, a second JIT worker thread or the concurrent
 * collector thread sometimes started after the baseline (2 VMAs each: stack
 * and guard page), and a tier-up compile sometimes grew the heap by a
 * mapping. Compiling and collecting on the main thread, without the
 * optimizing tiers, keeps the worker's count exact. The mmap syscall
 * dominates the loop, so the rate does not suffer.
 */
export const WORKER_JSC_ENV: Record<string, string> = {
  BUN_JSC_useConcurrentJIT: "0",
  BUN_JSC_useConcurrentGC: "0",
  BUN_JSC_useDFGJIT: "0",
  BUN_JSC_useFTLJIT: "0",
};

export interface WorkerHandle {
  readonly pid: number;
  /** The next message, or undefined when the worker closed its output (exited). */
  next(): Promise<WorkerMessage | undefined>;
  /** Let the worker go on after a pause. */
  resume(): void;
  /** Close its stdin (it exits at its next pause), then make sure it is gone. */
  stop(): Promise<void>;
  /** SIGKILL, for interrupts. */
  kill(): void;
  readonly exited: Promise<number>;
  /** What the worker wrote on stderr, for error messages. */
  stderrText(): Promise<string>;
  /** The signal that ended it (such as SIGALRM at its time limit), once it has exited. */
  signalCode(): string | null;
}

/**
 * Start the worker with `plan`. `executable` runs another vmaudit binary
 * (tests and the bench use the compiled one).
 *
 * @example
 * const w = spawnWorker({ target: 1000, checkpoints: [1000], limitCheck: false, timeLimitSeconds: 60, parentPid: process.pid });
 */
export function spawnWorker(plan: WorkerPlan, executable?: string): WorkerHandle {
  const child: Subprocess<"pipe", "pipe", "pipe"> = Bun.spawn(workerArgv(plan, executable), {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...WORKER_JSC_ENV },
  });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  let ended = false;
  return {
    pid: child.pid,
    exited: child.exited,
    async next() {
      for (;;) {
        const nl = pending.indexOf("\n");
        if (nl !== -1) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const m = parseMessage(line);
          if (m) return m;
          continue;
        }
        if (ended) return undefined;
        const { value, done } = await reader.read();
        if (done) {
          ended = true;
          continue;
        }
        pending += decoder.decode(value, { stream: true });
      }
    },
    resume() {
      child.stdin.write(CONTINUE);
      child.stdin.flush();
    },
    async stop() {
      try {
        child.stdin.end();
      } catch {
        // Already closed.
      }
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await child.exited;
      clearTimeout(timer);
    },
    kill() {
      child.kill("SIGKILL");
    },
    signalCode() {
      const sig: unknown = child.signalCode;
      return typeof sig === "string" ? sig : null;
    },
    async stderrText() {
      return (await new Response(child.stderr).text()).trim();
    },
  };
}
