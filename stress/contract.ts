/**
 * The contract between `vmaudit stress` (the harness, in src/stress/) and its
 * worker process (this folder): the plan, the worker's argv (written and
 * read here only), the pipe messages, and ENOMEM. Pure. It is the one file
 * of stress/ that src/ imports statically; the worker itself (bun:ffi) is
 * loaded only by the hidden worker command, when it runs.
 *
 * The pipe protocol: one message per line, words separated by spaces.
 *
 * Worker to harness (stdout):
 *   baseline B                 own map_count, measured right before mapping;
 *                              then it pauses until `continue`
 *   progress C                 C mappings created so far
 *   checkpoint C US            paused at C created; US = mapping time so far,
 *                              in whole microseconds
 *   refused C ERRNO R US       mmap failed at C created; R whole mappings
 *                              were already given back (the margin)
 *   done C US                  target reached, no limit check; holding
 *   error TEXT                 the worker could not start
 *
 * Every number is an integer, so the worker can format its lines into a
 * preallocated buffer (MessageEncoder) without allocating on its heap.
 *
 * Harness to worker (stdin): `continue` after a checkpoint. End of file at
 * any pause makes the worker exit.
 */
import { UsageError } from "../src/errors.ts";

export type WorkerMessage =
  | { kind: "baseline"; vmas: number }
  | { kind: "progress"; created: number }
  | { kind: "checkpoint"; created: number; mappingUs: number }
  | { kind: "refused"; created: number; errno: number; released: number; mappingUs: number }
  | { kind: "done"; created: number; mappingUs: number }
  | { kind: "error"; text: string };

export const CONTINUE = "continue\n";

/** The hidden subcommand that runs the worker. */
export const WORKER_COMMAND = "__stress-worker";

/** include/uapi/asm-generic/errno-base.h: what mmap fails with at the limit. */
export const ENOMEM = 12;

export interface WorkerPlan {
  /** Mappings to create. */
  target: number;
  /** Created counts to pause at, ascending; the last is `target`. */
  checkpoints: number[];
  /** After the target, keep mapping until the kernel refuses. */
  limitCheck: boolean;
  /** The worker ends itself (SIGALRM) after this many seconds. */
  timeLimitSeconds: number;
  /** The harness's pid: if our parent is already someone else, it died before prctl. */
  parentPid: number | undefined;
}

/** The worker's time limit when its argv gives none. */
const DEFAULT_TIME_LIMIT_SECONDS = 600;

/**
 * The worker's arguments (after the command name) for a plan.
 *
 * @example
 * workerArgs({ target: 100, checkpoints: [10, 100], limitCheck: true, timeLimitSeconds: 60, parentPid: 42 });
 * // ["--target", "100", "--checkpoints", "10,100", "--time-limit", "60", "--limit-check", "--parent", "42"]
 */
export function workerArgs(plan: WorkerPlan): string[] {
  const args = [
    "--target",
    String(plan.target),
    "--checkpoints",
    plan.checkpoints.join(","),
    "--time-limit",
    String(plan.timeLimitSeconds),
  ];
  if (plan.limitCheck) args.push("--limit-check");
  if (plan.parentPid !== undefined) args.push("--parent", String(plan.parentPid));
  return args;
}

/** A whole number from 1 to `max`, as the harness writes it. */
function count(name: string, raw: string | undefined, max = 2_147_483_647): number {
  const text = raw ?? "";
  if (!/^[0-9]{1,10}$/.test(text))
    throw new UsageError(
      `Cannot parse ${name} "${text}": expected a positive integer`,
      WORKER_COMMAND,
    );
  const value = Number(text);
  if (value > max)
    throw new UsageError(`Cannot use ${name} "${text}": expected at most ${max}`, WORKER_COMMAND);
  if (value < 1)
    throw new UsageError(
      `Cannot use ${name} "${text}": expected a positive integer`,
      WORKER_COMMAND,
    );
  return value;
}

/**
 * The plan from the worker's arguments, as `workerArgs` writes them. Anything
 * else is a usage error (the worker is not for people, but a mistake must
 * still be one line).
 *
 * @example
 * parseWorkerArgs(["--target", "100", "--checkpoints", "10,100"]).checkpoints; // [10, 100]
 */
export function parseWorkerArgs(args: readonly string[]): WorkerPlan {
  const raw: Record<string, string | undefined> = {};
  let limitCheck = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (name === "--limit-check" && eq === -1) {
      limitCheck = true;
      continue;
    }
    if (!["--target", "--checkpoints", "--time-limit", "--parent"].includes(name))
      throw new UsageError(
        `Unknown option "${arg}" for 'vmaudit ${WORKER_COMMAND}'`,
        WORKER_COMMAND,
      );
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new UsageError(`Option ${name} needs a value`, WORKER_COMMAND);
    raw[name] = value;
  }
  const target = count("--target", raw["--target"]);
  const list = raw["--checkpoints"] ?? String(target);
  const checkpoints = list.split(",").map((c) => count("--checkpoints", c, target));
  if (
    checkpoints.at(-1) !== target ||
    checkpoints.some((c, i) => i > 0 && c <= (checkpoints[i - 1] as number))
  ) {
    throw new UsageError(
      `Cannot use --checkpoints "${list}": expected ascending counts ending at the target`,
      WORKER_COMMAND,
    );
  }
  const parent = raw["--parent"];
  return {
    target,
    checkpoints,
    limitCheck,
    timeLimitSeconds: count(
      "--time-limit",
      raw["--time-limit"] ?? String(DEFAULT_TIME_LIMIT_SECONDS),
    ),
    parentPid: parent === undefined ? undefined : count("--parent", parent),
  };
}

/**
 * Format one message as a line (with its newline).
 *
 * @example
 * formatMessage({ kind: "progress", created: 500 }); // "progress 500\n"
 */
export function formatMessage(m: WorkerMessage): string {
  switch (m.kind) {
    case "baseline":
      return `baseline ${m.vmas}\n`;
    case "progress":
      return `progress ${m.created}\n`;
    case "checkpoint":
      return `checkpoint ${m.created} ${m.mappingUs}\n`;
    case "refused":
      return `refused ${m.created} ${m.errno} ${m.released} ${m.mappingUs}\n`;
    case "done":
      return `done ${m.created} ${m.mappingUs}\n`;
    case "error":
      return `error ${m.text.replace(/\n/g, " ")}\n`;
  }
}

/**
 * Parse one line (without its newline); undefined when it is not a message.
 *
 * @example
 * parseMessage("checkpoint 2000 7500"); // { kind: "checkpoint", created: 2000, mappingUs: 7500 }
 */
export function parseMessage(line: string): WorkerMessage | undefined {
  const [kind, ...rest] = line.split(" ");
  if (kind === "error") return { kind, text: rest.join(" ") };
  const n = rest.map(Number);
  if (n.some((x) => !Number.isSafeInteger(x) || x < 0)) return undefined;
  const [a, b, c, d] = n as [number, number, number, number];
  switch (kind) {
    case "baseline":
      return n.length === 1 ? { kind, vmas: a } : undefined;
    case "progress":
      return n.length === 1 ? { kind, created: a } : undefined;
    case "checkpoint":
      return n.length === 2 ? { kind, created: a, mappingUs: b } : undefined;
    case "refused":
      return n.length === 4 ? { kind, created: a, errno: b, released: c, mappingUs: d } : undefined;
    case "done":
      return n.length === 2 ? { kind, created: a, mappingUs: b } : undefined;
    default:
      return undefined;
  }
}

/** The message kinds the encoder writes: every kind but "error", which carries text. */
type EncodedKind = Exclude<WorkerMessage["kind"], "error">;

/**
 * Formats messages with integer fields into one reused buffer, byte for
 * byte as formatMessage does, without allocating: the worker's heap must not
 * grow while it maps (a growing heap maps memory and the count drifts).
 *
 * @example
 * const e = new MessageEncoder();
 * e.encode("progress", 500); // 13, the length of "progress 500\n" in e.buffer
 * e.line().toString(); // "progress 500\n"
 */
export class MessageEncoder {
  private readonly buf = Buffer.alloc(256);
  private len = 0;
  // Made with the encoder, not when this module loads: every command's
  // start-up loads this file (the worker command's name is here).
  private readonly tags: Record<EncodedKind, Buffer> = {
    baseline: Buffer.from("baseline"),
    progress: Buffer.from("progress"),
    checkpoint: Buffer.from("checkpoint"),
    refused: Buffer.from("refused"),
    done: Buffer.from("done"),
  };

  /**
   * Write the line for `kind` with up to four non-negative integers (-1 =
   * absent) at the start of `buffer`; returns its length.
   */
  encode(kind: EncodedKind, a: number, b = -1, c = -1, d = -1): number {
    const tag = this.tags[kind];
    tag.copy(this.buf, 0);
    this.len = tag.length;
    this.put(a);
    if (b >= 0) this.put(b);
    if (c >= 0) this.put(c);
    if (d >= 0) this.put(d);
    this.buf[this.len++] = 10;
    return this.len;
  }

  /** A copy of the last line (allocates: for tests, not the worker). */
  line(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  get buffer(): Buffer {
    return this.buf;
  }

  private put(n: number): void {
    this.buf[this.len++] = 32;
    let v = Math.floor(n);
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    for (let i = digits - 1; i >= 0; i--) {
      this.buf[this.len + i] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.len += digits;
  }
}
