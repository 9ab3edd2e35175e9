/**
 * The peak report `watch` prints on exit, and its renderings. Pure.
 */
import type { Palette } from "../color.ts";
import { type Column, renderColumns } from "../render/table.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { wrapLines } from "../render/text_width.ts";
import { formatCount } from "../render/units.ts";
import { renderRecommendation } from "../scan/render.ts";
import { type RecommendationRow, recommendationFor } from "../scan/report.ts";
import type { PeakEntry } from "./peaks_file.ts";
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
  };
}

function time(iso: string): string {
  return iso.slice(11, 19);
}

const APPLICATION: Column = { header: "APPLICATION", cut: "start" };

/** The live view: a few lines, redrawn each sample, fitted to the terminal's `width`. */
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
  const text = `${p.bold(`vmaudit watch: ${formatCount(cost.samples, "sample", "samples")}, last ${cost.lastMs.toFixed(1)} ms; limit ${limit ?? "unknown"} (Ctrl-C to stop)`)}\n${renderColumns(
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
      time(r.seenAt),
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

/** The report printed on exit; with a terminal `width`, fitted to it. */
export function renderWatchText(r: WatchReport, p: Palette, width?: number): string {
  const out: string[] = [];
  out.push(
    p.bold(
      `Peaks from ${formatCount(r.sampling.samples, "sample", "samples")} every ${r.intervalMs} ms (${r.startedAt} to ${r.endedAt}, stopped by ${r.stoppedBy})`,
    ),
  );
  out.push(
    renderColumns(
      PEAK_COLUMNS,
      r.processes.map((x) => [String(x.vmas), x.seenAt, String(x.pid), escapeControl(x.app)]),
      { width },
    ),
  );
  out.push(p.bold(`Applications (peak of any one process)`));
  out.push(
    renderColumns(
      PEAK_COLUMNS,
      r.applications.map((x) => [String(x.vmas), x.seenAt, String(x.pid), escapeControl(x.app)]),
      { width },
    ),
  );
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

export function renderWatchJson(r: WatchReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
