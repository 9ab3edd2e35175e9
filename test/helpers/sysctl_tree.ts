/**
 * Build sysctl config trees (a fake root with /etc/sysctl.d, /usr/lib/sysctl.d
 * ...) in temp dirs.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** File contents by target-system path; `{ link }` makes a symlink instead. */
export type SysctlTree = Record<string, string | { link: string }>;

/** Make a root dir holding `tree`; world-readable so a non-root child can read it. */
export function makeSysctlRoot(tree: SysctlTree): string {
  const root = mkdtempSync(join(tmpdir(), "vmaudit-root-"));
  chmodSync(root, 0o755);
  for (const [path, content] of Object.entries(tree)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true, mode: 0o755 });
    if (typeof content === "string") writeFileSync(full, content, { mode: 0o644 });
    else symlinkSync(content.link, full);
  }
  return root;
}

let empty: string | undefined;
/** An empty file outside every tree, to hide the host's /etc/sysctl.conf. */
function emptyFile(): string {
  if (empty === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "vmaudit-empty-"));
    chmodSync(dir, 0o755);
    empty = join(dir, "sysctl.conf");
    writeFileSync(empty, "", { mode: 0o644 });
  }
  return empty;
}

/** Quote one shell word. */
function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * A command prefix that runs the rest in a private mount namespace where the
 * host's sysctl config locations (/etc/sysctl.d, /usr/lib/sysctl.d, ... and
 * /etc/sysctl.conf) show `root`'s tree instead. `vmaudit apply` then works on
 * "the running system" (no --root) while reading and writing only the temp
 * tree; the host's /etc is never touched. Needs root (unshare, mount).
 * `readOnly` lists target-system folders to remount read-only in there.
 */
/**
 * Make the folders {@link sysctlNamespace} mounts over (every call makes
 * them), so that a snapshot of `root` taken after this does not count them
 * as the command's doing.
 */
export function makeMountPoints(root: string): void {
  sysctlNamespace(root);
}

export function sysctlNamespace(root: string, opts: { readOnly?: string[] } = {}): string[] {
  const steps: string[] = [];
  const seen = new Set<string>();
  for (const dir of [
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
  ]) {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      // The host lacks it: a tree that needs it cannot be shown there.
      if (existsSync(join(root, dir))) throw new Error(`This host has no ${dir} to mount over`);
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const inTree = join(root, dir);
    mkdirSync(inTree, { recursive: true, mode: 0o755 });
    steps.push(`mount --bind ${shq(inTree)} ${shq(real)}`);
  }
  if (existsSync("/etc/sysctl.conf")) {
    const conf = join(root, "etc/sysctl.conf");
    steps.push(`mount --bind ${shq(existsSync(conf) ? conf : emptyFile())} /etc/sysctl.conf`);
  }
  for (const dir of opts.readOnly ?? []) steps.push(`mount -o remount,bind,ro ${shq(dir)}`);
  return ["unshare", "--mount", "sh", "-c", `set -e; ${steps.join("; ")}; exec "$@"`, "sh"];
}
