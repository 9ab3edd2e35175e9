/**
 * Spawn a child that holds a known number of extra one-page VMAs until it is
 * stopped. Uses the Bun that runs the tests.
 */
import { join } from "node:path";
import type { Subprocess } from "bun";

/** Read a child's stdout up to the first newline (or its end), then let go of it. */
export async function readFirstLine(stdout: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text;
}

export interface Holder {
  pid: number;
  mapped: number;
  stop(): Promise<void>;
}

/**
 * `argv0` replaces the child's argv[0], which is what vmaudit names the
 * application after: tests use it for names full of quotes and backslashes.
 */
export async function spawnHolder(n: number, opts: { argv0?: string } = {}): Promise<Holder> {
  const child: Subprocess<"pipe", "pipe", "inherit"> = Bun.spawn(
    [process.execPath, join(import.meta.dir, "hold_vmas.ts"), String(n)],
    {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      ...(opts.argv0 === undefined ? {} : { argv0: opts.argv0 }),
    },
  );
  const text = await readFirstLine(child.stdout);
  const m = /^ready (\d+)/.exec(text);
  if (!m) {
    child.kill();
    throw new Error(`VMA holder failed: ${text.trim()}`);
  }
  return {
    pid: child.pid,
    mapped: Number(m[1]),
    async stop() {
      child.stdin.end();
      child.kill();
      await child.exited;
    },
  };
}

export interface Wave {
  pid: number;
  /** Map (`up`) or unmap (`down`) n VMAs; resolves with the pool size after it. */
  send(cmd: "up" | "down", n: number): Promise<number>;
  stop(): Promise<void>;
}

/** Spawn test/helpers/wave_vmas.ts: a process whose VMA count moves on command. */
export async function spawnWave(opts: { argv0?: string } = {}): Promise<Wave> {
  const child: Subprocess<"pipe", "pipe", "inherit"> = Bun.spawn(
    [process.execPath, join(import.meta.dir, "wave_vmas.ts")],
    {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      ...(opts.argv0 === undefined ? {} : { argv0: opts.argv0 }),
    },
  );
  const reader = child.stdout.getReader();
  let buffered = "";
  async function line(): Promise<string> {
    while (!buffered.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("wave worker exited");
      buffered += new TextDecoder().decode(value);
    }
    const i = buffered.indexOf("\n");
    const l = buffered.slice(0, i);
    buffered = buffered.slice(i + 1);
    return l;
  }
  const first = await line();
  if (first !== "ready") throw new Error(`wave worker failed: ${first}`);
  return {
    pid: child.pid,
    async send(cmd, n) {
      child.stdin.write(`${cmd} ${n}\n`);
      child.stdin.flush();
      const reply = await line();
      const m = /^at (\d+)$/.exec(reply);
      if (!m) throw new Error(`wave worker: ${reply}`);
      return Number(m[1]);
    },
    async stop() {
      reader.releaseLock();
      child.stdin.end();
      child.kill();
      await child.exited;
    },
  };
}
