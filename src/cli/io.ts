/**
 * The process's standard streams and environment, as one object a command can
 * be given. Tests pass a fake one.
 */
import { writeSync } from "node:fs";
import { errnoCode } from "../errors.ts";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
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
 * The real process streams. Writes are synchronous so that nothing is lost
 * when `runMain` exits right after a large report.
 */
export function processIo(): Io {
  return {
    stdout: (text) => writeAll(1, text),
    stderr: (text) => writeAll(2, text),
    env: process.env,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}
