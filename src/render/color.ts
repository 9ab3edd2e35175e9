/**
 * Colour is decided once, from the environment and flags, then passed down as a
 * {@link Palette}. Bun's `util.styleText` ignores NO_COLOR and TTY state
 * (oven-sh/bun #20129), so we do not rely on it.
 */

export interface ColorInputs {
  env: Record<string, string | undefined>;
  isTTY: boolean;
  noColorFlag: boolean;
  json: boolean;
}

/**
 * Whether to colour output.
 *
 * Off for `--json`, `--no-color`, a non-empty NO_COLOR, TERM=dumb or a
 * non-terminal; FORCE_COLOR turns it on (except for `--json` and `--no-color`).
 *
 * @example
 * useColor({ env: { NO_COLOR: "1" }, isTTY: true, noColorFlag: false, json: false }); // false
 */
export function useColor({ env, isTTY, noColorFlag, json }: ColorInputs): boolean {
  if (json || noColorFlag) return false;
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "0" && force !== "false") return true;
  if (env.TERM === "dumb") return false;
  return isTTY;
}

export interface Palette {
  enabled: boolean;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

function sgr(open: number, close: number): (s: string) => string {
  return (s) => `\x1b[${open}m${s}\x1b[${close}m`;
}

const identity = (s: string): string => s;

/**
 * A palette of ANSI styles, or of identity functions when colour is off.
 *
 * @example
 * palette(false).red("x"); // "x"
 */
export function palette(enabled: boolean): Palette {
  if (!enabled) {
    return {
      enabled,
      red: identity,
      yellow: identity,
      green: identity,
      bold: identity,
      dim: identity,
    };
  }
  return {
    enabled,
    red: sgr(31, 39),
    yellow: sgr(33, 39),
    green: sgr(32, 39),
    bold: sgr(1, 22),
    dim: sgr(2, 22),
  };
}
