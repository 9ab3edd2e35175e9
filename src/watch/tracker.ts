/**
 * Peak tracking for `vmaudit watch`. Pure: feed it samples, read the peaks.
 */
import type { PeakEntry } from "../peaks/peaks_file.ts";

export interface ObservedProcess {
  pid: number;
  app: string;
  vmas: number;
}

export interface ProcessPeak {
  pid: number;
  app: string;
  /** The highest count seen. */
  vmas: number;
  seenAt: string;
  /** The count at the last sample it was seen in. */
  last: number;
  /** The time of the last sample it was seen in (earlier than the run's last sample once it exits). */
  lastSeenAt: string;
}

export interface SampleCost {
  samples: number;
  meanMs: number;
  maxMs: number;
  lastMs: number;
}

/**
 * The highest entry seen under each key: a peak per application. Pure.
 * `keepHighest(n)` bounds the memory of a long run without changing the
 * first n: an entry it drops was below the n-th highest, and peaks only
 * grow, so if it comes back high enough to rank in the first n again, its
 * new value is its true peak (the old one was lower than that).
 *
 * @example
 * const t = new PeakTable<{ vmas: number }>();
 * t.offer("java", { vmas: 10 });
 * t.offer("java", { vmas: 7 });
 * t.highest()[0]?.vmas; // 10
 */
export class PeakTable<T extends { vmas: number }> {
  private readonly entries = new Map<string, { key: string; entry: T }>();

  /** Keep `entry` under `key` when it is higher than what the key holds (or the key is new). */
  offer(key: string, entry: T): void {
    const have = this.entries.get(key);
    if (!have || entry.vmas > have.entry.vmas) this.entries.set(key, { key, entry });
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entries, highest first (ties by key), at most `limit` of them. */
  highest(limit = Number.POSITIVE_INFINITY): T[] {
    return [...this.entries.values()]
      .sort((a, b) => b.entry.vmas - a.entry.vmas || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .slice(0, limit)
      .map((e) => e.entry);
  }

  /** Forget every entry below the `n` highest. */
  keepHighest(n: number): void {
    if (this.entries.size <= n) return;
    const keep = new Set(this.highest(n));
    for (const [key, e] of this.entries) if (!keep.has(e.entry)) this.entries.delete(key);
  }
}

/**
 * Tracks the peak VMA count of each process and of each application (the
 * highest single-process count among its processes: the limit is per
 * process), and what each sample cost.
 *
 * @example
 * const t = new PeakTracker();
 * t.observe([{ pid: 1, app: "java", vmas: 10 }], new Date(), 2.5);
 * t.processPeaks()[0]?.vmas; // 10
 */
export class PeakTracker {
  /** Keyed by pid and app, so a reused pid running something else starts over. */
  private readonly processes = new Map<string, ProcessPeak>();
  private readonly apps = new PeakTable<PeakEntry>();
  private costTotal = 0;
  private costMax = 0;
  private costLast = 0;
  private count = 0;
  private latest = "";

  observe(sample: readonly ObservedProcess[], at: Date, costMs: number): void {
    const seenAt = at.toISOString();
    for (const p of sample) {
      const key = `${p.pid}\u0000${p.app}`;
      const have = this.processes.get(key);
      if (!have) this.processes.set(key, { ...p, seenAt, last: p.vmas, lastSeenAt: seenAt });
      else {
        have.last = p.vmas;
        have.lastSeenAt = seenAt;
        if (p.vmas > have.vmas) {
          have.vmas = p.vmas;
          have.seenAt = seenAt;
        }
      }
      this.apps.offer(p.app, { app: p.app, vmas: p.vmas, pid: p.pid, seenAt });
    }
    this.count++;
    this.latest = seenAt;
    this.costTotal += costMs;
    this.costLast = costMs;
    if (costMs > this.costMax) this.costMax = costMs;
  }

  /** The time of the latest sample, "" before the first. */
  lastSampleAt(): string {
    return this.latest;
  }

  /** Every process ever seen, highest peak first. */
  processPeaks(): ProcessPeak[] {
    return [...this.processes.values()].sort((a, b) => b.vmas - a.vmas || a.pid - b.pid);
  }

  /** Every application, highest peak first. */
  appPeaks(): PeakEntry[] {
    return this.apps.highest();
  }

  cost(): SampleCost {
    return {
      samples: this.count,
      meanMs: this.count ? this.costTotal / this.count : 0,
      maxMs: this.costMax,
      lastMs: this.costLast,
    };
  }
}
