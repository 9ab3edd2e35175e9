/**
 * `vmaudit fleet REPORT...`, run: typed options to `sizeFleet`, the report
 * to a renderer; every unusable report named on stderr.
 */
import { stdoutPalette, stdoutWidth } from "../cli/output.ts";
import { EXIT_OK, UsageError } from "../errors.ts";
import { STDIN } from "../fleet/read_reports.ts";
import { renderFleetJson, renderFleetText } from "../fleet/render.ts";
import {
  BadReportsError,
  badReportLine,
  type SizeFleetInput,
  sizeFleet,
} from "../fleet/size_fleet.ts";
import { escapeControl } from "../render/terminal_text.ts";
import type { FleetRun } from "./fleet.ts";

/**
 * The typed options and arguments as the fleet call's input (without
 * stdin): at least one REPORT, and `-` at most once (stdin is one stream).
 *
 * @example
 * fleetRequest(parseCommandArgs(fleetCommand, ["reports/"]), {}).args; // ["reports/"]
 */
export function fleetRequest(
  input: Pick<FleetRun, "options" | "args">,
  env: Record<string, string | undefined>,
): Omit<SizeFleetInput, "stdin"> {
  const reports = input.args.REPORT;
  if (reports.length === 0)
    throw new UsageError(
      "Missing REPORT for 'vmaudit fleet': expected scan reports (files, folders, or - for stdin)",
      "fleet",
    );
  if (reports.filter((r) => r === STDIN).length > 1)
    throw new UsageError(
      'Cannot read "-" twice: stdin is one stream of reports, one per line',
      "fleet",
    );
  const o = input.options;
  return {
    args: reports,
    env,
    headroom: o.headroom,
    round: o.round,
    vma: o.vma,
    maxAgeSeconds: o["max-age"],
    skipBad: o["skip-bad"],
  };
}

export async function run({ options, args, io }: FleetRun): Promise<number> {
  const request = fleetRequest({ options, args }, io.env);
  let report: Awaited<ReturnType<typeof sizeFleet>>;
  try {
    report = await sizeFleet({ ...request, stdin: () => Bun.stdin.stream() });
  } catch (err) {
    if (err instanceof BadReportsError)
      for (const b of err.bad) io.stderr(`vmaudit: ${escapeControl(badReportLine(b))}\n`);
    throw err;
  }
  io.stdout(
    options.json
      ? renderFleetJson(report)
      : renderFleetText(report, stdoutPalette(io, options), stdoutWidth(io)),
  );
  return EXIT_OK;
}
