/**
 * Flags shared by several commands, with their parsers, so every command
 * spells and checks them the same way.
 */

import { DEFAULT_HEADROOM, DEFAULT_ROUND, MIN_HEADROOM } from "../core/recommend.ts";
import { UsageError } from "../errors.ts";
import { type Palette, palette, useColor } from "../render/color.ts";
import type { OptionSpec, OptionValues } from "./command.ts";
import type { Io } from "./io.ts";
import { stringOption } from "./parse.ts";
import { parseDecimal, parsePositiveInt } from "./values.ts";

export const PROCFS_OPTION: Record<string, OptionSpec> = {
  procfs: {
    type: "string",
    value: "PATH",
    description: "Read processes from this proc mount (like node_exporter's --path.procfs)",
    default: "/proc",
  },
};

export const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "Print one JSON document on stdout, nothing else" },
};

export const RECOMMEND_OPTIONS: Record<string, OptionSpec> = {
  vma: {
    type: "string",
    value: "N",
    description: "Also recommend for this peak: the most VMAs you expect any one process to use",
  },
  headroom: {
    type: "string",
    value: "FACTOR",
    description: `Multiply the peak by this factor; at least ${MIN_HEADROOM}`,
    default: String(DEFAULT_HEADROOM),
  },
  round: {
    type: "string",
    value: "N",
    description: "Round the recommendation up to a multiple of N (1 turns rounding off)",
    default: String(DEFAULT_ROUND),
  },
  peaks: {
    type: "string",
    value: "FILE",
    description: "Also recommend for the peak recorded in FILE by 'vmaudit watch --save FILE'",
  },
};

export interface RecommendFlags {
  headroom: number;
  round: number;
  vma: number | undefined;
  /** A peaks file from `watch --save`; scanSystem reads it. */
  peaks: string | undefined;
}

/**
 * Parse --headroom, --round, --vma and --peaks (the path only: scanSystem
 * reads the file, so every command that recommends from a scan gets it).
 *
 * @example
 * parseRecommendFlags({ headroom: "1.25" }, "scan").headroom; // 1.25
 */
export function parseRecommendFlags(values: OptionValues, command: string): RecommendFlags {
  const h = stringOption(values, "headroom");
  const headroom = h === undefined ? DEFAULT_HEADROOM : parseDecimal("--headroom", h, command);
  if (headroom < MIN_HEADROOM) {
    throw new UsageError(
      `Cannot use --headroom "${h}": expected at least ${MIN_HEADROOM}, because with less than 20% spare a normal swing in VMA use reaches the limit and mmap fails`,
      command,
    );
  }
  if (headroom > 1000) {
    throw new UsageError(`Cannot use --headroom "${h}": expected at most 1000`, command);
  }
  const r = stringOption(values, "round");
  const round = r === undefined ? DEFAULT_ROUND : parsePositiveInt("--round", r, { command });
  const v = stringOption(values, "vma");
  const vma = v === undefined ? undefined : parsePositiveInt("--vma", v, { command });
  const peaks = stringOption(values, "peaks");
  if (peaks === "") throw new UsageError(`Cannot use --peaks "": expected a file path`, command);
  return { headroom, round, vma, peaks };
}

/** The --procfs value, defaulting to /proc, with trailing slashes removed. */
export function procfsFlag(values: OptionValues, command: string): string {
  const raw = stringOption(values, "procfs") ?? "/proc";
  if (raw === "") throw new UsageError(`Cannot use --procfs "": expected a path`, command);
  return raw.length > 1 ? raw.replace(/\/+$/, "") : raw;
}

/** The palette for stdout, decided once from NO_COLOR, TTY and the flags. */
export function stdoutPalette(io: Io, values: OptionValues): Palette {
  return palette(
    useColor({
      env: io.env,
      isTTY: io.stdoutIsTTY,
      noColorFlag: values["no-color"] === true,
      json: values.json === true,
    }),
  );
}

/**
 * The width to fit text output to: the terminal's (COLUMNS when it holds a
 * number, as for `ps`, else the kernel's window size, else 80), or undefined
 * when stdout is not a terminal: then nothing is cut, so piped output and
 * logs keep whole command lines.
 */
export function stdoutWidth(io: Io): number | undefined {
  if (!io.stdoutIsTTY) return undefined;
  const env = io.env.COLUMNS;
  if (env !== undefined && /^[1-9][0-9]{0,4}$/.test(env)) return Number(env);
  return io.stdoutColumns?.() ?? 80;
}
