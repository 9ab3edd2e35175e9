/**
 * `vmaudit inspect PID`: why one process has so many VMAs. The command's
 * metadata and typed options; `inspect.run.ts` does the work.
 */
import { COMMON_EXIT_CODES, type CommandInput, defineCommand } from "../cli/command.ts";
import { JSON_OPTION, PROCFS_OPTION } from "../cli/common_options.ts";
import { int, positional } from "../cli/options.ts";
import { PID_MAX_LIMIT } from "../core/kernel_limits.ts";
import { UsageError } from "../errors.ts";

const DEFAULT_TOP_FILES = 10;

/**
 * A pid: a whole number from 1 to PID_MAX_LIMIT, else a usage error (exit 2).
 *
 * @example
 * parsePid("1234", { name: "PID", command: "inspect" }); // 1234
 */
export function parsePid(raw: string, at: { name: string; command: string }): number {
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || raw.length > 8 || Number(raw) > PID_MAX_LIMIT)
    throw new UsageError(
      `Cannot parse ${at.name} "${raw}": expected a process id, a whole number from 1 to ${PID_MAX_LIMIT}`,
      at.command,
    );
  return Number(raw);
}

const options = {
  "top-files": int({
    placeholder: "N",
    description: "How many files to list",
    default: DEFAULT_TOP_FILES,
  }),
  ...JSON_OPTION,
  ...PROCFS_OPTION,
};

const positionals = [
  positional({
    name: "PID",
    description: "The process to inspect",
    arity: "one",
    parse: parsePid,
    completion: "pid",
  }),
] as const;

export type InspectRun = CommandInput<typeof options, typeof positionals>;

export const inspectCommand = defineCommand({
  name: "inspect",
  summary: "Explain one process's VMAs: groups, top files, distance to the limit",
  description: `
Reads /proc/PID/maps and groups the VMAs: anonymous private, anonymous shared,
file-backed (by path), heap, main stack, thread stacks and their guard pages,
other PROT_NONE reservations, and special mappings ([vdso], [vvar], ...). For
each group: the count, its share and its virtual size, with a line on what the
biggest group usually means. Thread stacks are recognised by shape (a ---p
guard right below an rw-p region), as the kernel no longer labels them.

Exit codes: 0 ok, 1 the process does not exist or cannot be read, 2 the pid is
not a number.`,
  options,
  positionals,
  examples: ["sudo vmaudit inspect 1234", "vmaudit inspect $$ --json | jq .groups"],
  exitCodes: [
    COMMON_EXIT_CODES.ok,
    { code: 1, meaning: "the process does not exist or cannot be read" },
    { code: 2, meaning: "usage error: the pid is not a number" },
  ],
  load: () => import("./inspect.run.ts"),
});
