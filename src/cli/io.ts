/**
 * The process's standard streams and environment, as one object a command can
 * be given. Tests pass a fake one.
 *
 * Nothing here loads a module at start-up: `node:fs` costs about 1 ms in a
 * compiled binary, so it is fetched on the first write to stderr or the
 * first terminal check, and stdout goes through Bun's `console.write`
 * (synchronous while the reader keeps up; what a slow reader leaves is
 * buffered and `flush` waits for it). `vmaudit --version` thus pays for no
 * module beyond the command table.
 */
import type * as NodeFs from "node:fs";
import { errnoCode } from "../errors.ts";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** The width of the terminal on stdout in columns, when it can be told. Asked only when needed. */
  stdoutColumns?: () => number | undefined;
  /** The terminal's height, asked anew each call (it changes on SIGWINCH). */
  stdoutRows?: () => number | undefined;
  /** Wait until everything written is out (runMain calls it before it returns). */
  flush?: () => Promise<void>;
}

let fsModule: typeof NodeFs | undefined;

/** node:fs, loaded the first time it is needed. */
function nodeFs(): typeof NodeFs {
  fsModule ??= process.getBuiltinModule("node:fs");
  return fsModule;
}

function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text);
  let off = 0;
  while (off < data.length) {
    try {
      off += nodeFs().writeSync(fd, data, off);
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
    const st = nodeFs().fstatSync(fd);
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
 * Stdout through `console.write`: written at once while the reader keeps up;
 * when it does not, Bun buffers the rest (in order) and `flush` waits for
 * it. A reader that went away (EPIPE) ends the output quietly, as `head`
 * expects.
 */
function stdoutWriter(): { write(text: string): void; flush(): Promise<void> } {
  // Bun writes buffered data in order, so waiting for the last buffered
  // write waits for all of them.
  let last: Promise<unknown> | undefined;
  let closed = false;
  const quiet = (err: unknown) => {
    if (errnoCode(err) === "EPIPE") closed = true;
    else throw err;
  };
  return {
    write(text) {
      if (closed) return;
      try {
        const written = console.write(text);
        if (typeof written !== "number") last = written.catch(quiet);
      } catch (err) {
        quiet(err);
      }
    },
    async flush() {
      await last;
    },
  };
}

/**
 * The real process streams. Writes are synchronous, or waited for by
 * `flush`, so that nothing is lost when `runMain` exits right after a large
 * report. The terminal checks run once, when first asked.
 */
export function processIo(): Io {
  const out = stdoutWriter();
  let stdoutIsTTY: boolean | undefined;
  let stderrIsTTY: boolean | undefined;
  return {
    stdout: out.write,
    stderr: (text) => writeAll(2, text),
    env: process.env,
    get stdoutIsTTY() {
      stdoutIsTTY ??= isTerminal(1);
      return stdoutIsTTY;
    },
    get stderrIsTTY() {
      stderrIsTTY ??= isTerminal(2);
      return stderrIsTTY;
    },
    stdoutColumns: () => terminalSize(1)?.columns,
    stdoutRows: () => terminalSize(1)?.rows,
    flush: out.flush,
  };
}
