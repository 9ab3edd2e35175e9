/**
 * `vmaudit stress`, run: typed options to `runStress`, the progress bar on a
 * terminal's stderr, the report to a renderer.
 */
import { stdoutPalette } from "../cli/output.ts";
import { UsageError } from "../errors.ts";
import { isRoot } from "../identity.ts";
import { runDir } from "../limit/journal.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { runStress } from "../stress/harness.ts";
import type { StressOptions } from "../stress/plan.ts";
import { renderProgress, renderStressJson, renderStressText } from "../stress/render.ts";
import type { StressRun } from "./stress.ts";

/**
 * The typed options as stress options; --target is required.
 *
 * @example
 * stressRequest(parseCommandArgs(stressCommand, ["--target", "100000"]).options).target; // 100000
 */
export function stressRequest(options: StressRun["options"]): StressOptions {
  if (options.target === undefined)
    throw new UsageError("Missing --target N: how many VMAs the worker should create", "stress");
  return {
    target: options.target,
    limit: options.limit,
    checkpointPercents: options.checkpoints,
    repeat: options.repeat,
    limitCheck: !options["no-limit-check"],
    force: options.force,
    timeLimitSeconds: options["time-limit"],
    json: options.json,
  };
}

export async function run({ options, io }: StressRun): Promise<number> {
  const opts = stressRequest(options);
  const showProgress = io.stderrIsTTY;
  let lastDrawn = -1;
  const report = await runStress(opts, {
    procfs: "/proc",
    runDir: runDir(io.env),
    env: io.env,
    isRoot: isRoot(),
    notice: (line) => io.stderr(`${escapeControl(line)}\n`),
    onProgress: showProgress
      ? (created, target) => {
          const pct = Math.floor((created / target) * 100);
          if (pct === lastDrawn) return;
          lastDrawn = pct;
          io.stderr(`\r\x1b[K${renderProgress(created, target)}`);
        }
      : undefined,
  });
  if (showProgress && lastDrawn >= 0) io.stderr("\r\x1b[K");
  io.stdout(
    opts.json ? renderStressJson(report) : renderStressText(report, stdoutPalette(io, options)),
  );
  return report.exitCode;
}
