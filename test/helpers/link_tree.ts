/**
 * A /tmp-like folder (mode 1777) for tests of planted links: `victim/` (root's
 * folder that must never be written), `real/sub/`, a plain `file`, and links
 * made by `link(name, target, uid)` owned by `uid` (65534, nobody, plays the
 * other local user). Needs root for lchown to another uid.
 */
import {
  chmodSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The uid of the other local user in these tests. */
export const NOBODY = 65534;

export interface LinkTree {
  base: string;
  link(name: string, target: string, uid?: number): string;
  victimEntries(): string[];
}

/**
 * Make a link tree; its path is pushed on `temps` for the caller's cleanup.
 *
 * @example
 * const t = linkTree(temps);
 * t.link("m", join(t.base, "victim"), NOBODY);
 */
export function linkTree(temps: string[]): LinkTree {
  const base = mkdtempSync(join(tmpdir(), "vmaudit-write-"));
  temps.push(base);
  chmodSync(base, 0o1777);
  mkdirSync(join(base, "victim", "sub"), { recursive: true });
  mkdirSync(join(base, "real", "sub"), { recursive: true });
  writeFileSync(join(base, "file"), "x\n");
  return {
    base,
    link(name, target, uid = 0) {
      const p = join(base, name);
      symlinkSync(target, p);
      lchownSync(p, uid, uid);
      return p;
    },
    victimEntries: () => readdirSync(join(base, "victim")).sort(),
  };
}
