/**
 * `vmaudit inspect PID`, run: typed options to `inspectProcess`, the report
 * to a renderer.
 */
import { stdoutPalette, stdoutWidth } from "../cli/output.ts";
import { EXIT_OK } from "../errors.ts";
import { type InspectOptions, inspectProcess } from "../inspect/inspect.ts";
import { renderInspectJson, renderInspectText } from "../inspect/render.ts";
import { invokingUser } from "../proc/users.ts";
import type { InspectRun } from "./inspect.ts";

/**
 * The typed options as inspect options.
 *
 * @example
 * inspectRequest(parseCommandArgs(inspectCommand, ["1234"]), {}).pid; // 1234
 */
export function inspectRequest(
  input: Pick<InspectRun, "options" | "args">,
  env: Record<string, string | undefined>,
): InspectOptions {
  return {
    procfs: input.options.procfs,
    pid: input.args.PID,
    topFiles: input.options["top-files"],
    json: input.options.json,
    anonymizeUser: invokingUser(env),
  };
}

export function run({ options, args, io }: InspectRun): number {
  const opts = inspectRequest({ options, args }, io.env);
  const report = inspectProcess(opts);
  io.stdout(
    opts.json
      ? renderInspectJson(report)
      : renderInspectText(report, stdoutPalette(io, options), stdoutWidth(io)),
  );
  return EXIT_OK;
}
