/**
 * `vmaudit fleet`'s one domain call: read the reports the arguments name,
 * check each, and build the fleet report. A report that cannot be used
 * fails the call (all of them are named) unless `skipBad`, which lists it
 * in the report instead.
 */
import { EXIT_FAILURE, ExitError } from "../errors.ts";
import { formatCount } from "../render/units.ts";
import {
  buildFleetReport,
  type FleetReport,
  type FleetSettings,
  type SkippedReport,
} from "./fleet.ts";
import { type HostReport, NOT_JSON, parseHostReport } from "./host_report.ts";
import { type ReadReportsInput, readReports, STDIN } from "./read_reports.ts";

export interface SizeFleetInput extends FleetSettings, ReadReportsInput {
  /** List unusable reports in the report instead of failing. */
  skipBad: boolean;
  now?: Date;
}

/** Reports that cannot be used: each is named with its reason (exit 1). */
export class BadReportsError extends ExitError {
  constructor(
    readonly bad: readonly SkippedReport[],
    summary: string,
  ) {
    super(EXIT_FAILURE, summary);
    this.name = "BadReportsError";
  }
}

/** The line that names one unusable report. */
export function badReportLine(s: SkippedReport): string {
  return `Cannot use report "${s.source}": ${s.reason}`;
}

/**
 * Read, check and combine the reports.
 *
 * @example
 * const report = await sizeFleet({ args: ["reports/"], stdin: () => Bun.stdin.stream(), env: {},
 *   headroom: 1.5, round: 10000, vma: undefined, maxAgeSeconds: 86400, skipBad: false });
 */
export async function sizeFleet(input: SizeFleetInput): Promise<FleetReport> {
  const used: HostReport[] = [];
  const bad: SkippedReport[] = [];
  for await (const read of readReports(input)) {
    if ("reason" in read) {
      bad.push(read);
      continue;
    }
    const parsed = parseHostReport(read.text, read.source);
    if (parsed.ok) used.push(parsed.report);
    else
      bad.push({
        source: read.source,
        reason:
          // `scan --json` prints its report over many lines; stdin takes one per line.
          read.source.startsWith(`${STDIN}:`) && parsed.reason === NOT_JSON
            ? `${NOT_JSON} (stdin takes one report per line: compact each with 'jq -c .')`
            : parsed.reason,
      });
  }
  const given = used.length + bad.length;
  if (bad.length > 0 && !input.skipBad)
    throw new BadReportsError(
      bad,
      `Cannot size the fleet: ${bad.length} of ${formatCount(given, "report", "reports")} ${bad.length === 1 ? "is" : "are"} not usable; fix or remove ${bad.length === 1 ? "it" : "them"}, or pass --skip-bad to size the fleet from the rest`,
    );
  if (used.length === 0)
    throw new BadReportsError(
      bad,
      given === 0
        ? "Cannot size the fleet: no report was given (stdin was empty)"
        : `Cannot size the fleet: none of the ${given} reports is usable`,
    );
  return buildFleetReport(used, bad, input, input.now ?? new Date());
}
