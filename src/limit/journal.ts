/**
 * A journal of a temporary vm.max_map_count change, written before the change
 * so that a run killed with SIGKILL can be undone by the next one.
 * It lives in /run (tmpfs): a reboot resets the live limit and the journal
 * together.
 *
 * Root acts on what the journal says, so it is trusted only where no other
 * user could have written it, by the rule of sshd's StrictModes: the run
 * directory and the journal must be owned by root (or by the user running
 * vmaudit, who cannot change the limit anyway), not writable by group or
 * others, and not symlinks. Anything else is refused, never read.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  type Stats,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import { writeFileAtomicIn } from "../fs/atomic_write.ts";
import { inDir, openDirNoUntrustedLinks, RefusedLinkError } from "../fs/open_dir.ts";
import { effectiveUid } from "../identity.ts";
import { escapeControl } from "../render/terminal_text.ts";

export const JOURNAL_VERSION = 1;

export interface LimitJournal {
  version: typeof JOURNAL_VERSION;
  /** The limit to restore. */
  originalLimit: number;
  /** The temporary limit that was set. */
  temporaryLimit: number;
  /** The process that made the change. */
  pid: number;
  command: string;
  startedAt: string;
}

/** /run/vmaudit, or VMAUDIT_RUN_DIR (for tests). */
export function runDir(env: Record<string, string | undefined> = process.env): string {
  return env.VMAUDIT_RUN_DIR || "/run/vmaudit";
}

const JOURNAL_NAME = "limit-journal.json";
/** A journal is a few hundred bytes; read no more than this. */
const MAX_JOURNAL_BYTES = 64 * 1024;

export function journalPath(dir = runDir()): string {
  return join(dir, JOURNAL_NAME);
}

/** A run directory or journal another user could have written. */
export class UntrustedJournalError extends ExitError {
  constructor(what: "run directory" | "journal", path: string, reason: string) {
    super(
      EXIT_FAILURE,
      what === "run directory"
        ? `Refusing the stress run directory "${path}": ${reason}, so another user could plant a limit journal in it. Use a directory only root can write, such as /run/vmaudit`
        : `Refusing the limit journal "${path}": ${reason}, so another user could have written it. Nothing was restored: check vm.max_map_count by hand, then delete the file`,
    );
    this.name = "UntrustedJournalError";
  }
}

/**
 * Why `st` may hold (or be) a journal another user wrote, or undefined when it
 * is trusted: owned by root or this user, not writable by group or others.
 *
 * @example
 * untrustedReason(fstatSync(fd)); // "it is owned by uid 65534, not root"
 */
export function untrustedReason(st: Pick<Stats, "uid" | "mode">): string | undefined {
  const euid = effectiveUid() ?? 0;
  if (st.uid !== 0 && st.uid !== euid) {
    return `it is owned by uid ${st.uid}, not ${euid === 0 ? "root" : "root or you"}`;
  }
  if ((st.mode & 0o022) !== 0) {
    return `it is writable by group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`;
  }
  return undefined;
}

/**
 * Open the run directory, refusing a symlink, a link someone else owns on the
 * way, and a directory another user could write in.
 */
function openRunDir(dir: string): number {
  let fd: number;
  try {
    fd = openDirNoUntrustedLinks(dir, { followLast: false });
  } catch (err) {
    if (err instanceof RefusedLinkError) {
      throw new UntrustedJournalError("run directory", dir, err.reason);
    }
    throw err;
  }
  const reason = untrustedReason(fstatSync(fd));
  if (reason) {
    closeSync(fd);
    throw new UntrustedJournalError("run directory", dir, reason);
  }
  return fd;
}

/**
 * Record the change to be undone. Call before changing the limit. The run
 * directory is created 0700 when missing, and refused when another user could
 * write in it.
 */
export function writeJournal(entry: LimitJournal, dir = runDir()): void {
  let created: string | undefined;
  try {
    created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ExitError(EXIT_FAILURE, `Cannot create "${dir}": ${errnoCode(err) ?? String(err)}`);
  }
  const fd = openRunDir(dir);
  try {
    // mkdir applies the umask; the run directory is 0700 whatever it is.
    if (created !== undefined) chmodSync(inDir(fd), 0o700);
    writeFileAtomicIn(fd, JOURNAL_NAME, `${JSON.stringify(entry, null, 2)}\n`, {
      mode: 0o600,
      shown: journalPath(dir),
    });
  } finally {
    closeSync(fd);
  }
}

/** The journal exists but this user may not read it (not root). */
export class JournalAccessError extends ExitError {
  constructor(path: string, code: string) {
    super(EXIT_FAILURE, `Cannot read the limit journal "${path}" (${code}): it belongs to root`);
    this.name = "JournalAccessError";
  }
}

/** The journal's text, or undefined when there is none; refuses what another user could have written. */
function readJournalText(dir: string): string | undefined {
  const path = journalPath(dir);
  const failed = (err: unknown): never => {
    const code = errnoCode(err);
    if (code === "EACCES" || code === "EPERM") throw new JournalAccessError(path, code);
    throw new ExitError(EXIT_FAILURE, `Cannot read the limit journal "${path}": ${code}`);
  };
  let dirFd: number;
  try {
    dirFd = openRunDir(dir);
  } catch (err) {
    if (err instanceof ExitError) throw err;
    if (errnoCode(err) === "ENOENT") return undefined;
    return failed(err);
  }
  let fd: number | undefined;
  try {
    try {
      fd = openSync(
        inDir(dirFd, JOURNAL_NAME),
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ENOENT") return undefined;
      if (code === "ELOOP") throw new UntrustedJournalError("journal", path, "it is a symlink");
      return failed(err);
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new UntrustedJournalError("journal", path, "it is not a regular file");
    }
    const reason = untrustedReason(st);
    if (reason) throw new UntrustedJournalError("journal", path, reason);
    const buf = Buffer.alloc(MAX_JOURNAL_BYTES);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) {
      got = readSync(fd, buf, n, buf.length - n, null);
    }
    return buf.subarray(0, n).toString("utf8");
  } finally {
    if (fd !== undefined) closeSync(fd);
    closeSync(dirFd);
  }
}

function isJournal(j: unknown): j is LimitJournal {
  if (typeof j !== "object" || j === null) return false;
  const o = j as Record<string, unknown>;
  return (
    o.version === JOURNAL_VERSION &&
    Number.isSafeInteger(o.originalLimit) &&
    Number.isSafeInteger(o.temporaryLimit) &&
    Number.isSafeInteger(o.pid) &&
    typeof o.command === "string" &&
    typeof o.startedAt === "string"
  );
}

/**
 * The journal, or undefined when there is none. A corrupt one is an error,
 * and so is one another user could have written ({@link UntrustedJournalError}).
 * The values are only checked to be integers: restoring one passes the same
 * guards as `apply` (limit/guards.ts).
 */
export function readJournal(dir = runDir()): LimitJournal | undefined {
  const path = journalPath(dir);
  const text = readJournalText(dir);
  if (text === undefined) return undefined;
  try {
    const j: unknown = JSON.parse(text);
    if (isJournal(j)) return j;
  } catch {
    // fall through
  }
  throw new ExitError(
    EXIT_FAILURE,
    `The limit journal "${path}" is corrupt: check vm.max_map_count by hand, then delete it`,
  );
}

export function removeJournal(dir = runDir()): void {
  try {
    unlinkSync(journalPath(dir));
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
}

/**
 * A one-line warning while a journal exists, for `scan` and `apply`; undefined
 * when there is none or it cannot be read.
 */
export function journalWarning(dir = runDir()): string | undefined {
  let j: LimitJournal | undefined;
  try {
    j = readJournal(dir);
  } catch (err) {
    // /run/vmaudit is root's (0700): a user who cannot read it could not act
    // on it either, and a scan must not open with an EACCES warning.
    if (err instanceof JournalAccessError) return undefined;
    return err instanceof Error ? err.message : String(err);
  }
  if (!j) return undefined;
  return `vm.max_map_count was set to ${j.temporaryLimit} by '${escapeControl(j.command)}' (pid ${j.pid}, ${escapeControl(j.startedAt)}), which did not finish; the original value was ${j.originalLimit}. The next 'sudo vmaudit stress' restores it (journal: ${journalPath(dir)})`;
}
