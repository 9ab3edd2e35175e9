/**
 * The peak report `watch` prints on exit, and its renderings. Pure.
 */
import { type RecommendationRow, recommendationFor } from "../core/recommend.ts";
import { type PeakEntry, type PeaksFile, renderPeaksFile } from "../peaks/peaks_file.ts";
import type { Palette } from "../render/color.ts";
import { renderRecommendation } from "../render/recommendation.ts";
import { type Column, renderColumns } from "../render/table.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { wrapLines } from "../render/text_width.ts";
import { formatCount } from "../render/units.ts";
import type { PeakTracker, ProcessPeak, SampleCost } from "./tracker.ts";

export const WATCH_SCHEMA_VERSION = 1;

export interface WatchReport {
  schemaVersion: typeof WATCH_SCHEMA_VERSION;
  startedAt: string;
  endedAt: string;
  procfs: string;
  intervalMs: number;
  /** Why sampling stopped. */
  stoppedBy: "duration" | "SIGINT" | "SIGTERM";
  /** Cost of each sample (one full /proc walk). */
  sampling: SampleCost;
  maxMapCount: number | null;
  /** The highest single-process count of the whole run. */
  peak: PeakEntry | null;
  processes: ProcessPeak[];
  applications: PeakEntry[];
  settings: { headroom: number; round: number; top: number };
  /** Computed from the peak, not from the last snapshot. */
  recommendation: RecommendationRow | null;
  recommendedLimit: number | null;
  /** The peaks file written (`--save`), or null. */
  savedTo: string | null;
  /** Why `--save` failed at the end, or null. */
  saveError: string | null;
  /** When `--save` failed: the whole peaks file that was not written. */
  unsavedPeaks: PeaksFile | null;
}

/**
 * Build the report from a tracker.
 *
 * @example
 * buildWatchReport(tracker, { ... }).peak?.vmas;
 */
export function buildWatchReport(
  tracker: PeakTracker,
  run: {
    startedAt: Date;
    endedAt: Date;
    procfs: string;
    intervalMs: number;
    stoppedBy: WatchReport["stoppedBy"];
    maxMapCount: number | undefined;
    objsize: number | undefined;
    headroom: number;
    round: number;
    top: number;
    savedTo: string | undefined;
    saveError?: string | undefined;
    unsavedPeaks?: PeaksFile | undefined;
  },
): WatchReport {
  const apps = tracker.appPeaks();
  const peak = apps[0] ?? null;
  const recommendation =
    peak && peak.vmas > 0
      ? recommendationFor(
          peak.vmas,
          {
            headroom: run.headroom,
            round: run.round,
            maxMapCount: run.maxMapCount,
            objsize: run.objsize,
          },
          "watched-peak",
          { pid: peak.pid, app: peak.app },
        )
      : null;
  return {
    schemaVersion: WATCH_SCHEMA_VERSION,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt.toISOString(),
    procfs: run.procfs,
    intervalMs: run.intervalMs,
    stoppedBy: run.stoppedBy,
    sampling: tracker.cost(),
    maxMapCount: run.maxMapCount ?? null,
    peak,
    processes: tracker.processPeaks().slice(0, run.top),
    applications: apps.slice(0, run.top),
    settings: { headroom: run.headroom, round: run.round, top: run.top },
    recommendation,
    recommendedLimit: recommendation ? recommendation.recommendation.limit : null,
    savedTo: run.savedTo ?? null,
    saveError: run.saveError ?? null,
    unsavedPeaks: run.unsavedPeaks ?? null,
  };
}

/**
 * A time as the text views show it, the same in the live view and the final
 * report: date and time to the second, in UTC (as in the JSON).
 *
 * @example
 * formatTime("2025-01-01T12:34:56.789Z"); // "2025-01-01 12:34:56"
 */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Lines of the live view above its rows: the title and the table header. */
export const LIVE_VIEW_HEADER_LINES = 2;

const APPLICATION: Column = { header: "APPLICATION", cut: "start" };

/** The live view: a title and the `top` processes with the highest peaks, redrawn each sample, fitted to the terminal's `width`. */
export function renderLiveView(
  tracker: PeakTracker,
  limit: number | undefined,
  top: number,
  p: Palette,
  width?: number,
): string {
  const cost = tracker.cost();
  const rows = tracker.processPeaks().slice(0, top);
  const latest = tracker.lastSampleAt();
  const text = `${p.bold(`vmaudit watch: ${formatCount(cost.samples, "sample", "samples")}, last ${cost.lastMs.toFixed(1)} ms; limit ${limit ?? "unknown"} times in UTC (Ctrl-C to stop)`)}\n${renderColumns(
    [
      { header: "NOW", align: "right" },
      { header: "PEAK", align: "right" },
      { header: "SEEN" },
      { header: "PID", align: "right" },
      APPLICATION,
    ],
    rows.map((r) => [
      r.lastSeenAt === latest ? String(r.last) : "exited",
      String(r.vmas),
      formatTime(r.seenAt),
      String(r.pid),
      escapeControl(r.app),
    ]),
    { width },
  )}`;
  return width === undefined ? text : wrapLines(text, width);
}

const PEAK_COLUMNS: Column[] = [
  { header: "PEAK", align: "right" },
  { header: "SEEN" },
  { header: "PID", align: "right" },
  APPLICATION,
];

function peakRow(x: { vmas: number; seenAt: string; pid: number; app: string }): string[] {
  return [String(x.vmas), formatTime(x.seenAt), String(x.pid), escapeControl(x.app)];
}

/** The report printed on exit; with a terminal `width`, fitted to it. */
export function renderWatchText(r: WatchReport, p: Palette, width?: number): string {
  const out: string[] = [];
  out.push(
    p.bold(
      `Peaks from ${formatCount(r.sampling.samples, "sample", "samples")} every ${r.intervalMs} ms, stopped by ${r.stoppedBy}`,
    ),
  );
  out.push(`From ${formatTime(r.startedAt)} to ${formatTime(r.endedAt)} UTC`);
  out.push(renderColumns(PEAK_COLUMNS, r.processes.map(peakRow), { width }));
  out.push(p.bold(`Applications (peak of any one process)`));
  out.push(renderColumns(PEAK_COLUMNS, r.applications.map(peakRow), { width }));
  out.push(
    `Sampling cost: ${r.sampling.meanMs.toFixed(2)} ms mean, ${r.sampling.maxMs.toFixed(2)} ms max per sample`,
    "",
  );
  out.push(p.bold(`Recommendation from the peak (headroom x${r.settings.headroom})`));
  out.push(r.recommendation ? renderRecommendation(r.recommendation, p) : "  No process was read.");
  if (r.savedTo) out.push("", `Peaks saved to ${escapeControl(r.savedTo)}`);
  const text = `${out.join("\n")}\n`;
  return width === undefined ? text : wrapLines(text, width);
}

/**
 * After the text report, when `--save` failed: why, and the peaks file's
 * content, so it can be saved by hand.
 */
export function renderUnsavedPeaks(r: WatchReport): string {
  if (!r.unsavedPeaks) return "";
  return `\nPeaks NOT saved: ${r.saveError}. The peaks file follows; save it by hand:\n${renderPeaksFile(r.unsavedPeaks)}`;
}

export function renderWatchJson(r: WatchReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
