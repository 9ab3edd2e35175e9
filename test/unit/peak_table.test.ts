/**
 * PeakTable (src/watch/tracker.ts): the highest entry per key, and pruning
 * that never changes the first n (the exporter prunes after every scan).
 */
import { describe, expect, test } from "bun:test";
import { PeakTable } from "../../src/watch/tracker.ts";

interface Entry {
  app: string;
  vmas: number;
}

describe("PeakTable", () => {
  test("keeps the highest entry of each key; an equal one does not replace it", () => {
    const t = new PeakTable<Entry & { at: number }>();
    t.offer("java", { app: "java", vmas: 10, at: 1 });
    t.offer("java", { app: "java", vmas: 7, at: 2 });
    t.offer("java", { app: "java", vmas: 10, at: 3 });
    t.offer("bash", { app: "bash", vmas: 10, at: 4 });
    expect(t.highest()).toEqual([
      { app: "bash", vmas: 10, at: 4 },
      { app: "java", vmas: 10, at: 1 },
    ]);
    expect(t.highest(1)).toEqual([{ app: "bash", vmas: 10, at: 4 }]);
    expect(t.size).toBe(2);
  });

  test("keepHighest(n) forgets the rest", () => {
    const t = new PeakTable<Entry>();
    for (let i = 1; i <= 10; i++) t.offer(`a${i}`, { app: `a${i}`, vmas: i });
    t.keepHighest(3);
    expect(t.size).toBe(3);
    expect(t.highest().map((e) => e.app)).toEqual(["a10", "a9", "a8"]);
  });

  test("pruned to k at random times, the first n (n <= k) are always those of a table never pruned", () => {
    let seed = 3;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const [n, k] of [
      [1, 1],
      [3, 5],
      [5, 5],
      [10, 40],
    ] as const) {
      const pruned = new PeakTable<Entry>();
      const full = new PeakTable<Entry>();
      for (let step = 0; step < 3000; step++) {
        // Apps come and go; each one's counts swing up and down.
        const app = `app${next(120)}`;
        const e = { app, vmas: next(10_000) };
        pruned.offer(app, e);
        full.offer(app, e);
        if (next(10) === 0) pruned.keepHighest(k);
        expect(pruned.highest(n)).toEqual(full.highest(n));
      }
    }
  });
});
