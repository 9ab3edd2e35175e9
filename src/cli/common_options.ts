/**
 * Options shared by several commands, with their parsers, so every command
 * spells and checks them the same way. Metadata only: the command table
 * loads this at start-up, so it imports nothing heavy.
 */
import { DEFAULT_HEADROOM, DEFAULT_ROUND, MIN_HEADROOM } from "../core/recommend.ts";
import { UsageError } from "../errors.ts";
import { decimal, flag, int, path } from "./options.ts";

export const PROCFS_OPTION = {
  procfs: path({
    placeholder: "PATH",
    description: "Read processes from this proc mount (like node_exporter's --path.procfs)",
    default: "/proc",
    expected: "a path",
    // Trailing slashes go: "/host/proc/" is "/host/proc".
    refine: (raw) => (raw.length > 1 ? raw.replace(/\/+$/, "") : raw),
  }),
};

export const JSON_OPTION = {
  json: flag("Print one JSON document on stdout, nothing else"),
};

export const HEADROOM_OPTION = {
  headroom: decimal({
    placeholder: "FACTOR",
    description: `Multiply the peak by this factor; at least ${MIN_HEADROOM}`,
    default: DEFAULT_HEADROOM,
    check: (value, raw, at) => {
      if (value < MIN_HEADROOM)
        throw new UsageError(
          `Cannot use --headroom "${raw}": expected at least ${MIN_HEADROOM}, because with less than 20% spare a normal swing in VMA use reaches the limit and mmap fails`,
          at.command,
        );
      if (value > 1000)
        throw new UsageError(`Cannot use --headroom "${raw}": expected at most 1000`, at.command);
    },
  }),
};

export const ROUND_OPTION = {
  round: int({
    placeholder: "N",
    description: "Round the recommendation up to a multiple of N (1 turns rounding off)",
    default: DEFAULT_ROUND,
  }),
};

/**
 * --vma, --headroom, --round and --peaks (the path only: scanSystem reads
 * the file, so every command that recommends from a scan gets it).
 */
export const RECOMMEND_OPTIONS = {
  vma: int({
    placeholder: "N",
    description: "Also recommend for this peak: the most VMAs you expect any one process to use",
  }),
  ...HEADROOM_OPTION,
  ...ROUND_OPTION,
  peaks: path({
    placeholder: "FILE",
    description: "Also recommend for the peak recorded in FILE by 'vmaudit watch --save FILE'",
    expected: "a file path",
  }),
};
