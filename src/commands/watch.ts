/**
 * `vmaudit watch`: sample every process at an interval, track peaks, and
 * recommend from the peak rather than from one snapshot. The command's
 * metadata and typed options; `watch.run.ts` does the work.
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
  PROCFS_OPTION,
  ROUND_OPTION,
} from "../cli/common_options.ts";
import { custom, int, path } from "../cli/options.ts";
import { parseDecimal } from "../cli/values.ts";
import { UsageError } from "../errors.ts";

const DEFAULT_TOP = 20;
/** Below 10 ms the walk itself would be most of the interval on a busy host. */
const MIN_INTERVAL_MS = 10;
/**
 * setTimeout's delay is a signed 32-bit count of milliseconds (about 24.8
 * days); a longer one fires at once, so a longer --interval would sample
 * without pause.
 */
export const MAX_INTERVAL_MS = 2 ** 31 - 1;

/** Seconds (a decimal such as 0.25) to whole milliseconds, at least MIN_INTERVAL_MS. */
function milliseconds(raw: string, at: ParseContext): number {
  const ms = Math.round(parseDecimal(at.name, raw, at.command) * 1000);
  if (ms < MIN_INTERVAL_MS)
    throw new UsageError(
      `Cannot use ${at.name} "${raw}": expected at least ${MIN_INTERVAL_MS / 1000} seconds`,
      at.command,
    );
  return ms;
}

const options = {
  interval: custom({
    placeholder: "SECONDS",
    description: "Time between samples",
    default: 1000,
    defaultText: "1",
    parse: (raw, at) => {
      const ms = milliseconds(raw, at);
      if (ms > MAX_INTERVAL_MS)
        throw new UsageError(
          `Cannot use --interval "${raw}": expected at most ${Math.floor(MAX_INTERVAL_MS / 1000)} seconds (about 24 days)`,
          at.command,
        );
      return ms;
    },
  }),
  duration: custom({
    placeholder: "SECONDS",
    description: "Stop after this long (default: until Ctrl-C or SIGTERM)",
    parse: milliseconds,
  }),
  top: int({
    placeholder: "N",
    description: "Processes and applications to list",
    default: DEFAULT_TOP,
  }),
  save: path({
    placeholder: "FILE",
    description: "Merge the peaks into FILE, for 'scan --peaks FILE'",
    expected: "a file path",
  }),
  ...HEADROOM_OPTION,
  ...ROUND_OPTION,
  ...JSON_OPTION,
  ...PROCFS_OPTION,
};

export type WatchRun = CommandInput<typeof options>;

export const watchCommand = defineCommand({
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
  options,
  examples: [
    "sudo vmaudit watch",
    "sudo vmaudit watch --interval 0.2 --duration 3600 --save /var/lib/vmaudit/peaks.json",
    "sudo vmaudit scan --peaks /var/lib/vmaudit/peaks.json",
  ],
  exitCodes: [
    COMMON_EXIT_CODES.ok,
    {
      code: 1,
      meaning:
        "the proc root cannot be read, or --save failed (the peaks are printed on stdout instead)",
    },
    COMMON_EXIT_CODES.usage,
  ],
  load: () => import("./watch.run.ts"),
});
