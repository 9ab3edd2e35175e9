/**
 * When the exporter scans: on a scrape, at most once per minimum interval,
 * and never twice at once. Pure apart from the clock and the scan it is
 * given, so a test can drive it with a fake clock and a scan it resolves
 * by hand.
 *
 * Start to start: a scan may begin only `minIntervalMs` after the previous
 * one began. In any window of D ms at most floor(D / minIntervalMs) + 1
 * scans begin, however many scrapes arrive (the bound the bench checks).
 * Scrapes in between get the last scan's outcome, a failure included, so a
 * failing scan is not retried by a scrape storm either; scrapes that arrive
 * while a scan runs wait for that scan.
 */

export interface ScanSchedulerOptions<T> {
  /** The scan; its result (or what it throws) is what every scrape until the next scan gets. */
  scan: () => T | Promise<T>;
  minIntervalMs: number;
  /** Milliseconds on a monotonic clock (default performance.now). */
  now?: () => number;
}

/**
 * @example
 * const scheduler = new ScanScheduler({ scan: () => renderMetrics(), minIntervalMs: 5000 });
 * const body = await scheduler.get(); // scans now, or returns the scan of less than 5 s ago
 */
export class ScanScheduler<T> {
  private readonly scan: () => T | Promise<T>;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private last: { startedAt: number; outcome: Promise<T> } | undefined;
  private running = false;
  private started = 0;

  constructor(opts: ScanSchedulerOptions<T>) {
    this.scan = opts.scan;
    this.minIntervalMs = opts.minIntervalMs;
    this.now = opts.now ?? (() => performance.now());
  }

  /** The outcome of the running scan, of the last one if it is recent, or of a new one. */
  get(): Promise<T> {
    const last = this.last;
    if (last && (this.running || this.now() - last.startedAt < this.minIntervalMs))
      return last.outcome;
    const startedAt = this.now();
    this.running = true;
    this.started++;
    const outcome = (async () => {
      try {
        return await this.scan();
      } finally {
        this.running = false;
      }
    })();
    // A rejection is a result every waiting scrape handles; keep it from
    // counting as unhandled when no scrape waits for it.
    outcome.catch(() => {});
    this.last = { startedAt, outcome };
    return outcome;
  }

  /** How many scans were started. */
  get scans(): number {
    return this.started;
  }
}
