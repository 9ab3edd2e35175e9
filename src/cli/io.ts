/**
 * The process's standard streams and environment, as one object a command can
 * be given. Tests pass a fake one.
 */
import { fstatSync, writeSync } from "node:fs";
import { errnoCode } from "../errors.ts";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** The width of the terminal on stdout in columns, when it can be told. Asked only when needed. */
  stdoutColumns?: () => number | undefined;
  /** The terminal's height, asked anew each call (it changes on SIGWINCH). */
  stdoutRows?: () => number | undefined;
}

function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text);
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off);
    } catch (err) {
      const code = errnoCode(err);
      // The reader went away (`vmaudit scan | head`): stop writing quietly.
      if (code === "EPIPE") return;
      if (code === "EAGAIN") continue;
      throw err;
    }
  }
}

/**
 * Whether a file descriptor is a terminal: a character device other than the
 * memory devices (major 1: /dev/null, /dev/zero). This is what isatty() tells,
 * without touching process.stdout, whose lazy set-up costs ~2-3 ms of
 * start-up in a compiled binary.
 */
export function isTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isCharacterDevice() && ((st.rdev >> 8) & 0xfff) !== 1;
  } catch {
    return false;
  }
}

interface TtyWrapBinding {
  TTY: new (fd: number, readable: boolean) => { getWindowSize(size: number[]): unknown };
}

/**
 * The size of the terminal on `fd` (the TIOCGWINSZ ioctl), or undefined when
 * it is not a terminal or reports no size. Bun's tty_wrap binding asks the
 * kernel directly; `process.stdout.columns` costs ~2.5 ms of start-up and
 * bun:ffi ~1.7 ms, this costs nothing measurable. Ask again after SIGWINCH.
 */
export function terminalSize(fd: number): { columns: number; rows: number } | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): TtyWrapBinding }).binding(
      "tty_wrap",
    );
    const size = [0, 0];
    new binding.TTY(fd, false).getWindowSize(size);
    const [columns = 0, rows = 0] = size;
    return columns > 0 && rows > 0 ? { columns, rows } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The real process streams. Writes are synchronous so that nothing is lost
 * when `runMain` exits right after a large report.
 */
export function processIo(): Io {
  return {
    stdout: (text) => writeAll(1, text),
    stderr: (text) => writeAll(2, text),
    env: process.env,
    stdoutIsTTY: isTerminal(1),
    stderrIsTTY: isTerminal(2),
    stdoutColumns: () => terminalSize(1)?.columns,
    stdoutRows: () => terminalSize(1)?.rows,
  };
}
