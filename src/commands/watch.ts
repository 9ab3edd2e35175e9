/**
 * `vmaudit watch`: sample every process at an interval, track peaks, and
 * recommend from the peak rather than from one snapshot.
 */
import type { Command, OptionValues } from "../cli/command.ts";
import {
  invokingUser,
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
import { anonymiser } from "../core/anonymise.ts";
import { EXIT_OK, UsageError } from "../errors.ts";
import { assertRegularOrAbsent } from "../fs/atomic_write.ts";
import { readMaxMapCount, readVmaSlab } from "../proc/kernel.ts";
import { assertProcRoot, collectProcesses, newScanBuffers } from "../scan/collect.ts";
import { hiddenAppOf } from "../scan/report.ts";
import { readPeaksFile, savePeaks } from "../watch/peaks_file.ts";
import {
  buildWatchReport,
  renderLiveView,
  renderWatchJson,
  renderWatchText,
  type WatchReport,
} from "../watch/report.ts";
import { PeakTracker } from "../watch/tracker.ts";

const DEFAULT_TOP = 20;
/** Below 10 ms the walk itself would be most of the interval on a busy host. */
const MIN_INTERVAL_MS = 10;

export interface WatchOptions {
  procfs: string;
  intervalMs: number;
  durationMs: number | undefined;
  top: number;
  save: string | undefined;
  json: boolean;
  headroom: number;
  round: number;
  anonymiseUser: string | undefined;
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
    intervalMs: seconds(values, "interval") ?? 1000,
    durationMs: seconds(values, "duration"),
    top: t === undefined ? DEFAULT_TOP : parsePositiveInt("--top", t, { command: "watch" }),
    save,
    json: values.json === true,
    headroom,
    round,
    anonymiseUser: invokingUser(env),
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
    if (opts.save !== undefined) {
      // Refuse a bad file now, not after an hour of sampling.
      assertRegularOrAbsent(opts.save);
      readPeaksFile(opts.save, true);
    }
    const report = await watch(opts, io.stdoutIsTTY && !opts.json, (text) => io.stdout(text), {
      palette: stdoutPalette(io, values),
      width: stdoutWidth(io),
    });
    io.stdout(
      opts.json
        ? renderWatchJson(report)
        : renderWatchText(report, stdoutPalette(io, values), stdoutWidth(io)),
    );
    return EXIT_OK;
  },
};

/**
 * The sampling loop. Ends at --duration or on SIGINT/SIGTERM, then saves the
 * peaks (if asked) and returns the report.
 */
export async function watch(
  opts: WatchOptions,
  live: boolean,
  print: (text: string) => void,
  view: { palette: ReturnType<typeof stdoutPalette>; width?: number | undefined },
): Promise<WatchReport> {
  const tracker = new PeakTracker();
  const buffers = newScanBuffers();
  const hide = anonymiser(opts.anonymiseUser);
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
        print(`\x1b[H\x1b[2J${renderLiveView(tracker, limit, 10, view.palette, view.width)}`);
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
  }
  const endedAt = new Date();
  if (opts.save !== undefined) savePeaks(opts.save, tracker.appPeaks(), endedAt);
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
    savedTo: opts.save,
  });
}
