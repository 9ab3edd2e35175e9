/**
 * `vmaudit watch`, run: typed options to the sampling loop
 * (src/watch/loop.ts), the peak report to a renderer, and exit 1 with the
 * peaks on stdout when --save failed.
 */
import { stdoutPalette, stdoutWidth } from "../cli/output.ts";
import { EXIT_FAILURE, EXIT_OK, ExitError } from "../errors.ts";
import { prepareSave } from "../peaks/peaks_file.ts";
import { assertProcRoot } from "../proc/collect.ts";
import { invokingUser } from "../proc/users.ts";
import { type WatchOptions, watch } from "../watch/loop.ts";
import { renderUnsavedPeaks, renderWatchJson, renderWatchText } from "../watch/report.ts";
import type { WatchRun } from "./watch.ts";

/**
 * The typed options as watch options.
 *
 * @example
 * watchRequest(parseCommandArgs(watchCommand, ["--interval", "0.5"]).options, {}).intervalMs; // 500
 */
export function watchRequest(
  options: WatchRun["options"],
  env: Record<string, string | undefined>,
): WatchOptions {
  return {
    procfs: options.procfs,
    intervalMs: options.interval,
    durationMs: options.duration,
    top: options.top,
    save: options.save,
    json: options.json,
    headroom: options.headroom,
    round: options.round,
    anonymizeUser: invokingUser(env),
  };
}

export async function run({ options, io }: WatchRun): Promise<number> {
  const opts = watchRequest(options, io.env);
  assertProcRoot(opts.procfs);
  // Refuse a bad file or an unwritable folder now, not after an hour of
  // sampling; create a missing folder.
  if (opts.save !== undefined) prepareSave(opts.save);
  // A live view needs a terminal that understands cursor movement.
  const live = io.stdoutIsTTY && !opts.json && io.env.TERM !== "dumb";
  const report = await watch(opts, live, (text) => io.stdout(text), {
    palette: stdoutPalette(io, options),
    // Asked per frame, so a resized terminal (SIGWINCH) is redrawn to fit.
    screenRows: () => io.stdoutRows?.(),
    width: () => stdoutWidth(io),
  });
  io.stdout(
    opts.json
      ? renderWatchJson(report)
      : renderWatchText(report, stdoutPalette(io, options), stdoutWidth(io)),
  );
  if (report.saveError === null) return EXIT_OK;
  // The run is not lost: the report is out, and the peaks file's content
  // with it (in the JSON report, or as a JSON block after the text one).
  if (!opts.json) io.stdout(renderUnsavedPeaks(report));
  throw new ExitError(
    EXIT_FAILURE,
    `${report.saveError}; the peaks are on stdout instead${opts.json ? ' (JSON "unsavedPeaks")' : " (the JSON after the report)"}`,
  );
}
