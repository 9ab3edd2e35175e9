/**
 * Run the compiled binary on a real pseudo-terminal of a given size, with
 * util-linux `script` (scripts/test-deps.sh), and return what the terminal
 * received.
 */
import { binary } from "./env.ts";

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export interface PtyResult {
  code: number;
  /** Everything written to the terminal, with the pty's \r\n turned into \n. */
  output: string;
}

/**
 * Run `vmaudit ARGS` with stdout and stderr on a pty of `cols` x `rows`.
 * `env` is exported after `stty`: bash (checkwinsize) rewrites an exported
 * COLUMNS after every command it runs.
 *
 * @example
 * runInPty(["scan"], { cols: 80 }).output;
 */
export function runInPty(
  args: string[],
  opts: { cols: number; rows?: number; env?: Record<string, string> },
): PtyResult {
  const command = [binary(), ...args].map(shellQuote).join(" ");
  const exports = Object.entries(opts.env ?? {})
    .map(([k, v]) => `export ${k}=${shellQuote(v)}; `)
    .join("");
  // The width must come from the terminal itself, not from an inherited COLUMNS.
  const { COLUMNS: _, ...env } = process.env;
  const p = Bun.spawnSync(
    [
      "script",
      "-q",
      "-e",
      "-c",
      `stty cols ${opts.cols} rows ${opts.rows ?? 40}; ${exports}exec ${command}`,
      "/dev/null",
    ],
    { env: { ...env, NO_COLOR: "1" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  return { code: p.exitCode ?? -1, output: p.stdout.toString().replaceAll("\r\n", "\n") };
}
