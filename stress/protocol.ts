/**
 * The pipe protocol between `vmaudit stress` (the harness) and its worker.
 * One message per line, words separated by spaces. Pure.
 *
 * Worker to harness (stdout):
 *   baseline B                 own map_count, measured right before mapping;
 *                              then it pauses until `continue`
 *   progress C                 C mappings created so far
 *   checkpoint C MS            paused at C created; MS = mapping time so far
 *   refused C ERRNO R MS       mmap failed at C created; R whole mappings
 *                              were already given back (the margin)
 *   done C MS                  target reached, no limit check; holding
 *   error TEXT                 the worker could not start
 *
 * Harness to worker (stdin): `continue` after a checkpoint. End of file at
 * any pause makes the worker exit.
 */

export type WorkerMessage =
  | { kind: "baseline"; vmas: number }
  | { kind: "progress"; created: number }
  | { kind: "checkpoint"; created: number; mappingMs: number }
  | { kind: "refused"; created: number; errno: number; released: number; mappingMs: number }
  | { kind: "done"; created: number; mappingMs: number }
  | { kind: "error"; text: string };

export const CONTINUE = "continue\n";

/** The hidden subcommand that runs the worker. */
export const WORKER_COMMAND = "__stress-worker";

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
      return `checkpoint ${m.created} ${m.mappingMs.toFixed(3)}\n`;
    case "refused":
      return `refused ${m.created} ${m.errno} ${m.released} ${m.mappingMs.toFixed(3)}\n`;
    case "done":
      return `done ${m.created} ${m.mappingMs.toFixed(3)}\n`;
    case "error":
      return `error ${m.text.replace(/\n/g, " ")}\n`;
  }
}

/**
 * Parse one line (without its newline); undefined when it is not a message.
 *
 * @example
 * parseMessage("checkpoint 2000 7.5"); // { kind: "checkpoint", created: 2000, mappingMs: 7.5 }
 */
export function parseMessage(line: string): WorkerMessage | undefined {
  const [kind, ...rest] = line.split(" ");
  if (kind === "error") return { kind, text: rest.join(" ") };
  const n = rest.map(Number);
  if (n.some((x) => !Number.isFinite(x))) return undefined;
  const [a, b, c, d] = n as [number, number, number, number];
  switch (kind) {
    case "baseline":
      return n.length === 1 ? { kind, vmas: a } : undefined;
    case "progress":
      return n.length === 1 ? { kind, created: a } : undefined;
    case "checkpoint":
      return n.length === 2 ? { kind, created: a, mappingMs: b } : undefined;
    case "refused":
      return n.length === 4 ? { kind, created: a, errno: b, released: c, mappingMs: d } : undefined;
    case "done":
      return n.length === 2 ? { kind, created: a, mappingMs: b } : undefined;
    default:
      return undefined;
  }
}
