/**
 * SIGINT and SIGTERM during a stress run. The first signal is remembered and
 * the worker killed; the run then ends with {@link Interrupted} as its
 * error, so the temporary limit is restored (limit/temporary.ts) before the
 * command exits 130 or 143.
 */

/** Thrown inside the run when SIGINT or SIGTERM arrives. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(signal);
  }
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

/**
 * The exit code for a signal: 128 + its number, as a shell reports it.
 *
 * @example
 * interruptExitCode("SIGINT"); // 130
 */
export function interruptExitCode(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBERS[signal] ?? 0);
}

export interface InterruptWatch {
  /** The first signal that arrived, if any. */
  signal(): NodeJS.Signals | undefined;
  /** Throw {@link Interrupted} if a signal arrived. */
  check(): void;
  /** Stop listening. */
  dispose(): void;
}

/**
 * Listen for SIGINT and SIGTERM until `dispose()`; `onSignal` runs on each
 * (the harness kills its worker there).
 *
 * @example
 * const interrupts = watchInterrupts(() => worker?.kill());
 */
export function watchInterrupts(onSignal: () => void): InterruptWatch {
  let first: NodeJS.Signals | undefined;
  const handler = (sig: NodeJS.Signals) => {
    first ??= sig;
    onSignal();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: () => first,
    check() {
      if (first) throw new Interrupted(first);
    },
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
