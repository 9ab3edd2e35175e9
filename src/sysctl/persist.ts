/**
 * The boot-time config file vmaudit owns in /etc/sysctl.d: its content, and
 * writing or removing it safely (atomic, idempotent, never through a link).
 */
import { chmodSync, mkdirSync, readFileSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import {
  assertRegularOrAbsent,
  assertWritable,
  fsyncDir,
  writeFileAtomic,
} from "../fs/atomic_write.ts";
import { resolveInRoot, withRoot } from "../fs/root_path.ts";
import { VERSION } from "../version.ts";
import { CONF_DIR } from "./conf_name.ts";
import {
  byteString,
  bytesOf,
  MAX_MAP_COUNT_KEY,
  MAX_MAP_COUNT_PATH_KEY,
  parseSystemdConfig,
} from "./config.ts";
import { kernelParseMaxMapCount } from "./kernel_int.ts";

/** The first line of every file vmaudit writes; `--reset` removes only files that start with it. */
export const HEADER_MARK = "# Written by vmaudit";

/** The target-system path of a config name. */
export function confPath(name: string): string {
  return `${CONF_DIR}/${name}`;
}

/**
 * Where the config file `name` is on the host: its folders resolved inside
 * `root` as chroot would (fs/root_path.ts), so a link in an image never leads
 * to the host's /etc. The file itself is not followed.
 */
function hostConfPath(root: string, name: string): string {
  try {
    return resolveInRoot(root, confPath(name), { followLast: false });
  } catch (err) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot resolve "${withRoot(root, confPath(name))}" inside "${root}": ${errnoCode(err) ?? String(err)}`,
    );
  }
}

/**
 * The file content: a header (vmaudit, date, the previous value) and one
 * setting line.
 *
 * @example
 * renderConfFile({ value: 120000, previous: 65530, now: new Date(0) });
 */
export function renderConfFile(input: { value: number; previous: number; now: Date }): string {
  return [
    `${HEADER_MARK} ${VERSION} on ${input.now.toISOString()}`,
    `# The previous value was ${input.previous}. Undo: sudo vmaudit apply --reset`,
    `${MAX_MAP_COUNT_KEY} = ${input.value}`,
    "",
  ].join("\n");
}

/** Whether a file's text is one vmaudit wrote. */
export function isVmauditFile(text: string): boolean {
  return text.startsWith(HEADER_MARK);
}

/**
 * The value a file's text alone gives vm.max_map_count as systemd-sysctl
 * reads it (its last assignment, as the kernel takes it), or undefined.
 */
export function confValue(text: string): number | undefined {
  const last = parseSystemdConfig(byteString(Buffer.from(text)))
    .directives.filter((d) => d.key === MAX_MAP_COUNT_PATH_KEY)
    .at(-1);
  return last?.value == null ? undefined : kernelParseMaxMapCount(bytesOf(`${last.value}\n`));
}

/** The current text of a config file, or undefined when absent; refuses links and non-files. */
export function readOwnFile(root: string, name: string): string | undefined {
  const full = hostConfPath(root, name);
  assertRegularOrAbsent(full);
  try {
    return readFileSync(full, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw new ExitError(EXIT_FAILURE, `Cannot read "${full}": ${errnoCode(err) ?? String(err)}`);
  }
}

export interface PersistOutcome {
  /** The file name in /etc/sysctl.d. */
  name: string;
  /** The target-system path. */
  path: string;
  /** False when the file already said the value and was left alone. */
  changed: boolean;
  content: string;
}

/**
 * What persisting would do, without doing it: the file is unchanged when it
 * already sets `value`.
 */
export function planPersist(input: {
  root: string;
  name: string;
  value: number;
  previous: number;
  now: Date;
}): PersistOutcome {
  const existing = readOwnFile(input.root, input.name);
  const path = confPath(input.name);
  if (existing !== undefined && confValue(existing) === input.value) {
    return { name: input.name, path, changed: false, content: existing };
  }
  return { name: input.name, path, changed: true, content: renderConfFile(input) };
}

/**
 * Fail when the config file could not be written or removed: the checks of
 * the real write (links, a non-file at the path) and whether its folder (or,
 * if it is missing, the nearest parent that exists) accepts a new file, such
 * as a read-only /etc (access(2) reports EROFS even for root). Run before the
 * live value changes, so that the failure changes nothing, and by --dry-run
 * too, judged as root would judge it.
 */
export function assertConfDirWritable(root: string, name: string): void {
  assertWritable(hostConfPath(root, name), {
    createParents: true,
    forRoot: true,
    why: "the boot-time config cannot be saved, so nothing was changed",
  });
}

/**
 * Write the plan: temp file in the same directory, fsync, rename, mode 0644,
 * owned by root. Nothing is written when the plan is unchanged, so the mtime
 * stays.
 *
 * @example
 * persist(planPersist({ root: "/", name: DEFAULT_CONF_NAME, value: 120000, previous: 65530, now: new Date() }), "/");
 */
export function persist(plan: PersistOutcome, root: string): void {
  if (!plan.changed) return;
  const full = hostConfPath(root, plan.name);
  const dir = dirname(full);
  try {
    const first = mkdirSync(dir, { recursive: true, mode: 0o755 });
    // mkdir applies the umask: make every directory it created 0755, so the
    // config stays readable by non-root tools whatever root's umask is.
    if (first !== undefined) {
      for (let d = dir; d.length >= first.length; d = dirname(d)) chmodSync(d, 0o755);
    }
  } catch (err) {
    throw new ExitError(
      EXIT_FAILURE,
      `Cannot create "${dirname(full)}": ${errnoCode(err) ?? String(err)}`,
    );
  }
  writeFileAtomic(full, plan.content, 0o644, { uid: 0, gid: 0 });
}

/**
 * Check that `--reset` may remove the file: absent, or a regular file that
 * vmaudit wrote. Returns whether there is one to remove.
 */
export function checkRemovable(root: string, name: string): boolean {
  const text = readOwnFile(root, name);
  if (text === undefined) return false;
  if (!isVmauditFile(text)) {
    throw new ExitError(
      EXIT_FAILURE,
      `Refusing to remove "${withRoot(root, confPath(name))}": vmaudit did not write it (its first line is not "${HEADER_MARK} ..."). Edit or remove it yourself`,
    );
  }
  return true;
}

/** Remove the file and fsync its directory, so the removal survives a crash. */
export function removeOwnFile(root: string, name: string): void {
  const full = hostConfPath(root, name);
  try {
    unlinkSync(full);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw new ExitError(EXIT_FAILURE, `Cannot remove "${full}": ${errnoCode(err) ?? String(err)}`);
  }
  fsyncDir(dirname(full));
}
