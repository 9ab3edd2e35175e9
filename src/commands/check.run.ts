/**
 * `vmaudit check`, run: typed options to `runCheck`, one status line (or
 * JSON) on stdout, and the monitoring-plugins exit code. A usage error too
 * prints a status line (`usageErrorStdout`): a monitor reads only stdout.
 */
import { type CheckResult, unknownCheck } from "../check/evaluate.ts";
import { type CheckOptions, runCheck } from "../check/run_check.ts";
import { UsageError } from "../errors.ts";
import type { CheckRun } from "./check.ts";

/**
 * The typed options as check options; --warn above --crit is a usage error.
 *
 * @example
 * checkRequest(parseCommandArgs(checkCommand, ["--warn", "70"]).options).warn; // 70
 */
export function checkRequest(options: CheckRun["options"]): CheckOptions {
  const { warn, crit } = options;
  if (warn > crit)
    throw new UsageError(
      `Cannot use --warn ${warn} above --crit ${crit}: the warning must come first`,
      "check",
    );
  return {
    procfs: options.procfs,
    warn,
    crit,
    json: options.json,
    allowPartial: options["allow-partial"],
    ...(options.min === undefined ? {} : { min: options.min }),
  };
}

/** The result as a monitor reads it: one status line, or JSON. */
function renderCheck(result: CheckResult, json: boolean): string {
  return json ? `${JSON.stringify(result, null, 2)}\n` : `${result.line}\n`;
}

/**
 * Whether the arguments ask for JSON, read without the parser (which is what
 * failed when this is needed): a `--json` before any `--`.
 */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).includes("--json");
}

export function usageErrorStdout(message: string, args: readonly string[]): string {
  return renderCheck(unknownCheck(message, null, null), wantsJson(args));
}

export function run({ options, io }: CheckRun): number {
  const opts = checkRequest(options);
  let result: CheckResult;
  try {
    result = runCheck(opts);
  } catch (err) {
    // A bug must not reach the monitor as exit 1 (WARNING) with no line.
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr(`vmaudit: internal error (please report this):\n${detail}\n`);
    const message = err instanceof Error ? err.message : String(err);
    result = unknownCheck(`Internal error (please report this): ${message}`, opts.warn, opts.crit);
  }
  io.stdout(renderCheck(result, opts.json));
  return result.exitCode;
}
