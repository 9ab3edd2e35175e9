/**
 * Where `vmaudit fleet` gets its reports: files, folders of `*.json` files,
 * and `-`, one JSON report per line of stdin. Each report's text goes to a
 * callback as soon as it is read, so only one report's text is held at a
 * time.
 *
 * Reports are files other people and tools wrote, often gathered from many
 * hosts into a shared folder, so they are read as vmaudit reads a peaks
 * file: through `fs/read_regular.ts` (a FIFO does not block, a device or a
 * directory is refused, a file larger than {@link REPORT_MAX_BYTES} is
 * refused after that many bytes). A folder is opened as vmaudit opens a
 * folder it writes in (`fs/open_dir.ts`): no symlink owned by another user
 * on the way; in it, a `*.json` that is a symlink is followed only when
 * root, you or the user who ran sudo owns the link.
 */
import { closeSync, lstatSync, readdirSync, statSync } from "node:fs";
import { ExitError, errnoCode } from "../errors.ts";
import { inDir, openDirNoUntrustedLinks, trustedOwners } from "../fs/open_dir.ts";
import { describeReadCode, readRegularFile, TOO_LARGE } from "../fs/read_regular.ts";

/**
 * A scan report is a few KiB to a few MiB (its `--top` command lines and one
 * entry per application); 64 MiB is far above any real one.
 */
export const REPORT_MAX_BYTES = 64 << 20;

/** The name `-` arguments stand for, and the prefix of stdin's sources (`-:3`). */
export const STDIN = "-";

/** One report's text, or why it could not be read. */
export type ReadOutcome = { source: string; text: string } | { source: string; reason: string };

export interface ReadReportsInput {
  /** The REPORT arguments, as typed. */
  args: readonly string[];
  /** Standard input, asked for only when an argument is `-`. */
  stdin: () => AsyncIterable<Uint8Array>;
  /** For the owners whose links are followed (SUDO_UID). */
  env: Record<string, string | undefined>;
  maxBytes?: number;
}

/** A read error as a reason for messages: `no such file or folder (ENOENT)`. */
function readReason(err: unknown, maxBytes: number): string {
  if (err instanceof ExitError) return err.message.replace(/^Refusing to use "[^"]*": /, "");
  const code = errnoCode(err);
  if (code === "ENOENT") return "no such file or folder (ENOENT)";
  if (code === "EACCES") return "permission denied (EACCES)";
  if (code === "ELOOP") return "it is a symlink (ELOOP)";
  if (code === "EISDIR") return "it is a folder (EISDIR)";
  if (code === TOO_LARGE) return `it is larger than ${maxBytes} bytes, more than any scan report`;
  return code ? `it is ${describeReadCode(code)}` : String(err);
}

function readFile(path: string, followLinks: boolean, maxBytes: number): ReadOutcome {
  try {
    return {
      source: path,
      text: readRegularFile(path, maxBytes, { followLinks }).toString("utf8"),
    };
  } catch (err) {
    return { source: path, reason: readReason(err, maxBytes) };
  }
}

/** Byte order of names, as `ls` sorts them under LC_ALL=C. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * The `*.json` entries of a folder, as the shell's glob would pick them
 * (hidden names are not), in byte order, each read or refused.
 */
function* readFolder(dir: string, trusted: Set<number>, maxBytes: number): Generator<ReadOutcome> {
  const shownDir = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
  let fd: number;
  try {
    fd = openDirNoUntrustedLinks(dir, { trusted });
  } catch (err) {
    yield { source: dir, reason: readReason(err, maxBytes) };
    return;
  }
  try {
    let names: string[];
    try {
      names = readdirSync(inDir(fd))
        .filter((n) => n.endsWith(".json") && !n.startsWith("."))
        .sort(byBytes);
    } catch (err) {
      yield { source: dir, reason: readReason(err, maxBytes) };
      return;
    }
    if (names.length === 0) {
      yield { source: dir, reason: "the folder has no *.json report in it" };
      return;
    }
    for (const name of names) {
      const source = `${shownDir === "/" ? "" : shownDir}/${name}`;
      const at = inDir(fd, name);
      let link: { uid: number } | undefined;
      try {
        const st = lstatSync(at);
        if (st.isSymbolicLink()) link = { uid: st.uid };
      } catch (err) {
        yield { source, reason: readReason(err, maxBytes) };
        continue;
      }
      if (link && !trusted.has(link.uid)) {
        yield {
          source,
          reason: `it is a symlink owned by uid ${link.uid}, not by root or you, so another user could point it anywhere`,
        };
        continue;
      }
      // A regular file is opened with O_NOFOLLOW: swapped for a link since
      // the lstat, it is refused (ELOOP), not followed.
      const read = readFile(at, link !== undefined, maxBytes);
      yield "text" in read ? { source, text: read.text } : { source, reason: read.reason };
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The lines of stdin, each a report: `-:N` is line N. Blank lines are
 * skipped; a line longer than `maxBytes` is refused without being kept (the
 * rest of it is read and dropped).
 */
async function* readStdinLines(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<ReadOutcome> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let line = 0;
  const end = (): ReadOutcome | undefined => {
    line++;
    const source = `${STDIN}:${line}`;
    const bytes = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    if (tooLong) {
      tooLong = false;
      return { source, reason: `the line is longer than ${maxBytes} bytes, more than any report` };
    }
    const text = bytes.toString("utf8");
    return text.trim() === "" ? undefined : { source, text };
  };
  for await (const chunk of chunks) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let nl = buf.indexOf(10); ; nl = buf.indexOf(10)) {
      const piece = nl === -1 ? buf : buf.subarray(0, nl);
      if (!tooLong) {
        if (size + piece.length > maxBytes) {
          tooLong = true;
          parts = [];
          size = 0;
        } else if (piece.length > 0) {
          // A copy: the stream may reuse the chunk's memory.
          parts.push(Buffer.from(piece));
          size += piece.length;
        }
      }
      if (nl === -1) break;
      const out = end();
      if (out) yield out;
      buf = buf.subarray(nl + 1);
    }
  }
  if (size > 0 || tooLong) {
    const out = end();
    if (out) yield out;
  }
}

/**
 * Read every report the arguments name, in order: a folder's `*.json` in
 * byte order, stdin line by line. Nothing here throws for a bad report: each
 * one comes back with its reason.
 *
 * @example
 * for await (const r of readReports({ args: ["reports/"], stdin: () => Bun.stdin.stream(), env: {} }))
 *   console.log(r.source);
 */
export async function* readReports(input: ReadReportsInput): AsyncGenerator<ReadOutcome> {
  const maxBytes = input.maxBytes ?? REPORT_MAX_BYTES;
  const trusted = trustedOwners(input.env);
  for (const arg of input.args) {
    if (arg === STDIN) {
      yield* readStdinLines(input.stdin(), maxBytes);
      continue;
    }
    let isFolder = false;
    try {
      isFolder = statSync(arg).isDirectory();
    } catch {
      // Not there, or not reachable: readFile says which.
    }
    if (isFolder) yield* readFolder(arg, trusted, maxBytes);
    // A file named on the command line is read as typed, links followed
    // (as for --peaks FILE): the user chose it.
    else yield readFile(arg, true, maxBytes);
  }
}
