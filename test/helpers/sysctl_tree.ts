/**
 * Build sysctl config trees (a fake root with /etc/sysctl.d, /usr/lib/sysctl.d
 * ...) in temp dirs.
 */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
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
