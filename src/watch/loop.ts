/**
 * The sampling loop of `vmaudit watch`: walk every process at an interval
 * (reused buffers), track the peaks, draw the live view on a terminal
 * (alternate screen, fitted to its height, redrawn on SIGWINCH), stop at
 * --duration or on SIGINT/SIGTERM, then save the peaks (if asked) and build
 * the report. A failed save does not lose the run: the report carries the
 * peaks that were not written.
 */
import { anonymizer } from "../core/anonymize.ts";
import { hiddenAppOf } from "../core/app_name.ts";
import { ExitError } from "../errors.ts";
import { buildPeaksFile, type PeaksFile, readPeaksFile, savePeaks } from "../peaks/peaks_file.ts";
import { collectProcesses, newScanBuffers } from "../proc/collect.ts";
import { readMaxMapCount, readVmaSlab } from "../proc/kernel.ts";
import type { Palette } from "../render/color.ts";
import { ENTER_LIVE_SCREEN, LEAVE_LIVE_SCREEN, liveFrame, rowsThatFit } from "../render/screen.ts";
import {
  buildWatchReport,
  LIVE_VIEW_HEADER_LINES,
  renderLiveView,
  type WatchReport,
} from "./report.ts";
import { PeakTracker } from "./tracker.ts";

export interface WatchOptions {
  procfs: string;
  intervalMs: number;
  durationMs: number | undefined;
  top: number;
  save: string | undefined;
  json: boolean;
  headroom: number;
  round: number;
  anonymizeUser: string | undefined;
}

/**
 * The sampling loop. Ends at --duration or on SIGINT/SIGTERM, then saves the
 * peaks (if asked) and returns the report.
 *
 * `live`: draw a view after every sample on the terminal's alternate screen
 * (as top does), as many rows as `--top` asks and the screen has; the
 * normal screen is back before this returns, so the report that follows
 * lands in the scrollback on a clean line (a `^C` echoed by the terminal
 * went to the alternate screen).
 */
export async function watch(
  opts: WatchOptions,
  live: boolean,
  print: (text: string) => void,
  view: {
    palette: Palette;
    screenRows?: () => number | undefined;
    width?: () => number | undefined;
  },
): Promise<WatchReport> {
  const tracker = new PeakTracker();
  const buffers = newScanBuffers();
  const hide = anonymizer(opts.anonymizeUser);
  const startedAt = new Date();
  const deadline =
    opts.durationMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + opts.durationMs;
  let stoppedBy: WatchReport["stoppedBy"] = "duration";
  let stop = false;
  let wake: (() => void) | undefined;
  const onSignal = (name: "SIGINT" | "SIGTERM") => () => {
    stoppedBy = name;
    stop = true;
    wake?.();
  };
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  let limit = readMaxMapCount(opts.procfs);
  const draw = () => {
    // The title and the table header, and one line spare so nothing scrolls.
    const rows = rowsThatFit(opts.top, view.screenRows?.(), LIVE_VIEW_HEADER_LINES + 1);
    print(liveFrame(renderLiveView(tracker, limit, rows, view.palette, view.width?.())));
  };
  const onResize = () => {
    if (tracker.cost().samples > 0) draw();
  };
  if (live) {
    print(ENTER_LIVE_SCREEN);
    process.on("SIGWINCH", onResize);
  }
  try {
    while (!stop) {
      const t0 = performance.now();
      const c = collectProcesses(opts.procfs, { buffers });
      tracker.observe(
        c.samples.map((s) => ({ pid: s.pid, vmas: s.vmas, app: hiddenAppOf(s, hide).name })),
        new Date(),
        c.durationMs,
      );
      if (live) {
        limit = readMaxMapCount(opts.procfs);
        draw();
      }
      const now = performance.now();
      if (now >= deadline || stop) break;
      const wait = Math.min(Math.max(0, opts.intervalMs - (now - t0)), deadline - now);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    if (live) {
      process.off("SIGWINCH", onResize);
      print(LEAVE_LIVE_SCREEN);
    }
  }
  const endedAt = new Date();
  const saved = opts.save === undefined ? undefined : trySave(opts.save, tracker, endedAt);
  const slab = readVmaSlab(opts.procfs);
  return buildWatchReport(tracker, {
    startedAt,
    endedAt,
    procfs: opts.procfs,
    intervalMs: opts.intervalMs,
    stoppedBy,
    maxMapCount: readMaxMapCount(opts.procfs),
    objsize: slab.ok ? slab.slab.objsize : undefined,
    headroom: opts.headroom,
    round: opts.round,
    top: opts.top,
    savedTo: saved?.ok ? opts.save : undefined,
    saveError: saved?.ok === false ? saved.error : undefined,
    unsavedPeaks: saved?.ok === false ? saved.file : undefined,
  });
}

/**
 * Save the peaks; on failure, say why and return what would have been
 * written (merged with the old file when it can still be read), so the run
 * is printed rather than lost.
 */
function trySave(
  path: string,
  tracker: PeakTracker,
  now: Date,
): { ok: true } | { ok: false; error: string; file: PeaksFile } {
  const fresh = tracker.appPeaks();
  try {
    savePeaks(path, fresh, now);
    return { ok: true };
  } catch (err) {
    const error = err instanceof ExitError ? err.message : `Cannot write "${path}": ${String(err)}`;
    let old: PeaksFile | undefined;
    try {
      old = readPeaksFile(path, true);
    } catch {
      old = undefined;
    }
    return { ok: false, error, file: buildPeaksFile(old, fresh, now) };
  }
}
