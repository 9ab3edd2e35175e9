/**
 * An in-memory Io for calling runMain and commands without a process.
 */
import type { Io } from "../../src/cli/io.ts";

export interface FakeIo extends Io {
  out: string;
  err: string;
}

export function fakeIo(env: Record<string, string | undefined> = {}, tty = false): FakeIo {
  const io: FakeIo = {
    out: "",
    err: "",
    stdout(text) {
      io.out += text;
    },
    stderr(text) {
      io.err += text;
    },
    env,
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
  };
  return io;
}
