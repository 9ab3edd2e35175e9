/**
 * `vmaudit watch`: sample every process at an interval, track peaks, and
 * recommend from the peak rather than from one snapshot.
 */
import type { Command, OptionValues } from "../cli/command.ts";
import {
  JSON_OPTION,
  PROCFS_OPTION,
  parseRecommendFlags,
  procfsFlag,
  RECOMMEND_OPTIONS,
  stdoutPalette,
  stdoutWidth,
} from "../cli/common_flags.ts";
import { stringOption } from "../cli/parse.ts";
import { parseDecimal, parsePositiveInt } from "../cli/values.ts";
import { anonymizer } from "../core/anonymize.ts";
import { hiddenAppOf } from "../core/app_name.ts";
import { EXIT_FAILURE, EXIT_OK, ExitError, UsageError } from "../errors.ts";
import {
  buildPeaksFile,
  type PeaksFile,
  prepareSave,
  readPeaksFile,
  savePeaks,
} from "../peaks/peaks_file.ts";
import { assertProcRoot, collectProcesses, newScanBuffers } from "../proc/collect.ts";
import { readMaxMapCount, readVmaSlab } from "../proc/kernel.ts";
import { invokingUser } from "../proc/users.ts";
import { ENTER_LIVE_SCREEN, LEAVE_LIVE_SCREEN, liveFrame, rowsThatFit } from "../render/screen.ts";
import {
  buildWatchReport,
  LIVE_VIEW_HEADER_LINES,
  renderLiveView,
  renderUnsavedPeaks,
  renderWatchJson,
  renderWatchText,
  type WatchReport,
} from "../watch/report.ts";
import { PeakTracker } from "../watch/tracker.ts";

const DEFAULT_TOP = 20;
/** Below 10 ms the walk itself would be most of the interval on a busy host. */
const MIN_INTERVAL_MS = 10;
/**
 * setTimeout's delay is a signed 32-bit count of milliseconds (about 24.8
 * days); a longer one fires at once, so a longer --interval would sample
 * without pause.
 */
export const MAX_INTERVAL_MS = 2 ** 31 - 1;

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

function seconds(values: OptionValues, name: string): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const ms = Math.round(parseDecimal(`--${name}`, raw, "watch") * 1000);
  if (ms < MIN_INTERVAL_MS)
    throw new UsageError(
      `Cannot use --${name} "${raw}": expected at least ${MIN_INTERVAL_MS / 1000} seconds`,
      "watch",
    );
  return ms;
}

function intervalMs(values: OptionValues): number {
  const ms = seconds(values, "interval") ?? 1000;
  if (ms > MAX_INTERVAL_MS)
    throw new UsageError(
      `Cannot use --interval "${stringOption(values, "interval")}": expected at most ${Math.floor(MAX_INTERVAL_MS / 1000)} seconds (about 24 days)`,
      "watch",
    );
  return ms;
}

/**
 * argv values to watch options.
 *
 * @example
 * parseWatchOptions({ interval: "0.5" }, {}).intervalMs; // 500
 */
export function parseWatchOptions(
  values: OptionValues,
  env: Record<string, string | undefined>,
): WatchOptions {
  const t = stringOption(values, "top");
  const save = stringOption(values, "save");
  if (save === "") throw new UsageError(`Cannot use --save "": expected a file path`, "watch");
  const { headroom, round } = parseRecommendFlags(values, "watch");
  return {
    procfs: procfsFlag(values, "watch"),
    intervalMs: intervalMs(values),
    durationMs: seconds(values, "duration"),
    top: t === undefined ? DEFAULT_TOP : parsePositiveInt("--top", t, { command: "watch" }),
    save,
    json: values.json === true,
    headroom,
    round,
    anonymizeUser: invokingUser(env),
  };
}

export const watchCommand: Command = {
  name: "watch",
  summary: "Sample every process over time; report peaks and recommend from them",
  description: `
Samples every process every --interval seconds for --duration seconds (default:
until Ctrl-C or SIGTERM), tracking the peak VMA count of each process and each
application and when it was seen. On a terminal it shows a live view. On exit
it prints the peaks and a recommendation computed from the peak.

--save FILE merges the application peaks into FILE (atomically); then
'vmaudit scan --peaks FILE' recommends from the recorded history. A FILE that
is not a vmaudit peaks file is refused before sampling starts and never
overwritten.`,
  options: {
    interval: {
      type: "string",
      value: "SECONDS",
      description: "Time between samples",
      default: "1",
    },
    duration: {
      type: "string",
      value: "SECONDS",
      description: "Stop after this long (default: until Ctrl-C or SIGTERM)",
    },
    top: {
      type: "string",
      value: "N",
      description: "Processes and applications to list",
      default: String(DEFAULT_TOP),
    },
    save: {
      type: "string",
      value: "FILE",
      description: "Merge the peaks into FILE, for 'scan --peaks FILE'",
    },
    headroom: RECOMMEND_OPTIONS.headroom as (typeof RECOMMEND_OPTIONS)[string],
    round: RECOMMEND_OPTIONS.round as (typeof RECOMMEND_OPTIONS)[string],
    ...JSON_OPTION,
    ...PROCFS_OPTION,
  },
  examples: [
    "sudo vmaudit watch",
    "sudo vmaudit watch --interval 0.2 --duration 3600 --save /var/lib/vmaudit/peaks.json",
    "sudo vmaudit scan --peaks /var/lib/vmaudit/peaks.json",
  ],
  async run({ values, io }) {
    const opts = parseWatchOptions(values, io.env);
    assertProcRoot(opts.procfs);
    // Refuse a bad file or an unwritable folder now, not after an hour of
    // sampling; create a missing folder.
    if (opts.save !== undefined) prepareSave(opts.save);
    // A live view needs a terminal that understands cursor movement.
    const live = io.stdoutIsTTY && !opts.json && io.env.TERM !== "dumb";
    const report = await watch(opts, live, (text) => io.stdout(text), {
      palette: stdoutPalette(io, values),
      // Asked per frame, so a resized terminal (SIGWINCH) is redrawn to fit.
      screenRows: () => io.stdoutRows?.(),
      width: () => stdoutWidth(io),
    });
    io.stdout(
      opts.json
        ? renderWatchJson(report)
        : renderWatchText(report, stdoutPalette(io, values), stdoutWidth(io)),
    );
    if (report.saveError === null) return EXIT_OK;
    // The run is not lost: the report is out, and the peaks file's content
    // with it (in the JSON report, or as a JSON block after the text one).
    if (!opts.json) io.stdout(renderUnsavedPeaks(report));
    throw new ExitError(
      EXIT_FAILURE,
      `${report.saveError}; the peaks are on stdout instead${opts.json ? ' (JSON "unsavedPeaks")' : " (the JSON after the report)"}`,
    );
  },
};

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
    palette: ReturnType<typeof stdoutPalette>;
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
