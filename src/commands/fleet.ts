/**
 * `vmaudit fleet REPORT...`: one vm.max_map_count for many hosts, from
 * their `scan --json` reports. The command's metadata and typed options;
 * `fleet.run.ts` does the work.
 */
import {
  COMMON_EXIT_CODES,
  type CommandInput,
  defineCommand,
  type ParseContext,
} from "../cli/command.ts";
import {
  HEADROOM_OPTION,
  JSON_OPTION,
  RECOMMEND_OPTIONS,
  ROUND_OPTION,
} from "../cli/common_options.ts";
import { custom, flag, positional } from "../cli/options.ts";
import { UsageError } from "../errors.ts";

export const DEFAULT_MAX_AGE_SECONDS = 86_400;
/** Ten years: a longer --max-age is a typo. */
const MAX_MAX_AGE_SECONDS = 10 * 366 * 86_400;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * A duration: a whole number with `s`, `m`, `h` or `d` (plain: seconds).
 *
 * @example
 * parseMaxAge("12h", { name: "--max-age", command: "fleet" }); // 43200
 */
export function parseMaxAge(raw: string, at: ParseContext): number {
  const m = /^([0-9]{1,12})([smhd]?)$/.exec(raw);
  const seconds = m ? Number(m[1]) * (UNIT_SECONDS[m[2] || "s"] as number) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_MAX_AGE_SECONDS))
    throw new UsageError(
      `Cannot parse ${at.name} "${raw}": expected a duration from 1s to 3660d, such as 90m, 12h or 7d (s, m, h, d; no unit: seconds)`,
      at.command,
    );
  return seconds;
}

const options = {
  vma: RECOMMEND_OPTIONS.vma,
  ...HEADROOM_OPTION,
  ...ROUND_OPTION,
  "max-age": custom({
    placeholder: "AGE",
    description: "Flag reports older than AGE as stale (90m, 12h, 7d)",
    default: DEFAULT_MAX_AGE_SECONDS,
    defaultText: "1d",
    parse: parseMaxAge,
  }),
  "skip-bad": flag(
    "Leave out reports that cannot be read or are not scan reports (listed as skipped) instead of failing",
  ),
  ...JSON_OPTION,
};

const positionals = [
  positional({
    name: "REPORT",
    description:
      "A 'vmaudit scan --json' report: a file, a folder (its *.json files), or - for one report per line on stdin",
    arity: "many",
    parse: (raw: string) => raw,
    completion: "path",
  }),
] as const;

export type FleetRun = CommandInput<typeof options, typeof positionals>;

export const fleetCommand = defineCommand({
  name: "fleet",
  summary: "Size one vm.max_map_count for many hosts from their scan reports",
  description: `
Reads 'vmaudit scan --json' reports of many hosts and prints each host's limit,
busiest process, usage and own recommendation; each application across the
fleet (hosts, max, mean); and one recommendation for the whole fleet: the scan's
engine (--headroom, --round, the ELF margin, the DoS warning) applied to the
highest peak of any host, with the hosts whose limit is below it today.

One call sizes one fleet: for two classes of hosts, call it once per class.
Two reports of the same boot of a host (the same bootId): the newer is used.
Reports older than --max-age are used but flagged stale.

Exit codes: 0 ok; 1 a report cannot be read or is not a usable scan report
(each is named; --skip-bad leaves them out instead), or no report is usable;
2 usage error.`,
  options,
  positionals,
  examples: [
    "vmaudit fleet reports/",
    "vmaudit fleet web-*.json --headroom 2 --json | jq .recommendedLimit",
    "for h in web-1 web-2; do ssh $h sudo vmaudit scan --json; done | jq -c . | vmaudit fleet -",
  ],
  exitCodes: [
    COMMON_EXIT_CODES.ok,
    {
      code: 1,
      meaning: "a report cannot be read or used (without --skip-bad), or no report is usable",
    },
    COMMON_EXIT_CODES.usage,
  ],
  load: () => import("./fleet.run.ts"),
});
