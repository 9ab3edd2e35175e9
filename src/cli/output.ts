/**
 * How a command's text output looks on this stdout: the colour palette,
 * decided once, and the width to fit.
 */
import { type Palette, palette, useColor } from "../render/color.ts";
import type { Io } from "./io.ts";

/**
 * The palette for stdout, decided once from NO_COLOR, TTY and the flags.
 *
 * @example
 * stdoutPalette(io, { "no-color": true }).enabled; // false
 */
export function stdoutPalette(
  io: Io,
  options: { readonly "no-color": boolean; readonly json?: boolean },
): Palette {
  return palette(
    useColor({
      env: io.env,
      isTTY: io.stdoutIsTTY,
      noColorFlag: options["no-color"],
      json: options.json === true,
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
