/**
 * resolveInRoot(): target-system paths resolved inside a root, as chroot
 * would, over a real temp tree with absolute and relative links, `..`
 * escapes and loops.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { errnoCode } from "../src/errors.ts";
import { resolveInRoot } from "../src/fs/root_path.ts";

const root = mkdtempSync(join(tmpdir(), "vmaudit-rootpath-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dirs = ["real-etc/sysctl.d", "usr/lib/sysctl.d", "a/b", "plain/sub"];
const files = ["real-etc/sysctl.d/10-x.conf", "usr/lib/sysctl.d/50-y.conf", "file"];
const links: [string, string][] = [
  // /etc is an absolute link, as in an image built on another machine.
  ["etc", "/real-etc"],
  ["real-etc/vendor", "/usr/lib/sysctl.d"],
  // Relative links that climb out of the root with more `..` than it has.
  ["a/b/escape", "../../../../../../../usr/lib"],
  ["a/b/up", "../.."],
  ["to-slash", "/"],
  ["loop1", "loop2"],
  ["loop2", "/loop1"],
  ["self", "/self"],
  ["dangling", "/nowhere/at/all"],
  ["chain1", "chain2"],
  ["chain2", "/etc/sysctl.d"],
  ["real-etc/sysctl.d/mask.conf", "/dev/null"],
  ["to-file", "/file"],
];
for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
for (const f of files) writeFileSync(join(root, f), "x\n");
for (const [path, target] of links) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(target, join(root, path));
}

/** What resolveInRoot gives, relative to the root, or the errno it throws. */
function resolved(path: string, followLast = true): string {
  try {
    const host = resolveInRoot(root, path, { followLast });
    if (host === root) return "/";
    expect(host.startsWith(`${root}/`)).toBe(true);
    return host.slice(root.length);
  } catch (err) {
    return `error ${errnoCode(err)}`;
  }
}

describe("resolveInRoot() keeps every path inside the root", () => {
  const cases: [string, string, boolean, string][] = [
    ["a plain path", "/plain/sub", true, "/plain/sub"],
    ["the root itself", "/", true, "/"],
    [
      "an absolute link in the middle",
      "/etc/sysctl.d/10-x.conf",
      true,
      "/real-etc/sysctl.d/10-x.conf",
    ],
    ["an absolute link as the last part", "/etc", true, "/real-etc"],
    ["an absolute link as the last part, not followed", "/etc", false, "/etc"],
    [
      "a link in the middle is followed even with followLast false",
      "/etc/sysctl.d",
      false,
      "/real-etc/sysctl.d",
    ],
    ["two absolute links in a row", "/etc/vendor/50-y.conf", true, "/usr/lib/sysctl.d/50-y.conf"],
    ["a relative link with too many ..", "/a/b/escape/sysctl.d", true, "/usr/lib/sysctl.d"],
    ["a relative link to ../..", "/a/b/up/etc/sysctl.d", true, "/real-etc/sysctl.d"],
    [".. in the path above the root", "/../../../etc/sysctl.d", true, "/real-etc/sysctl.d"],
    [".. after a link goes to the link target's parent", "/etc/sysctl.d/../..", true, "/"],
    ["a link to /", "/to-slash/etc", true, "/real-etc"],
    [". components", "/./plain/./sub/.", true, "/plain/sub"],
    ["repeated slashes", "//plain///sub//", true, "/plain/sub"],
    ["a chain of links", "/chain1/10-x.conf", true, "/real-etc/sysctl.d/10-x.conf"],
    [
      "a /dev/null mask, not followed",
      "/etc/sysctl.d/mask.conf",
      false,
      "/real-etc/sysctl.d/mask.conf",
    ],
    [
      "a /dev/null mask, followed: the root's /dev/null",
      "/etc/sysctl.d/mask.conf",
      true,
      "/dev/null",
    ],
    [
      "a missing file in an existing folder",
      "/etc/sysctl.d/new.conf",
      true,
      "/real-etc/sysctl.d/new.conf",
    ],
    [
      "missing folders are kept as written",
      "/etc/new/deeper/x.conf",
      true,
      "/real-etc/new/deeper/x.conf",
    ],
    [".. after a missing folder stays inside", "/new/../../../../x", true, "/x"],
    [
      ".. back out of a missing folder finds links again",
      "/new/../etc/sysctl.d",
      true,
      "/real-etc/sysctl.d",
    ],
    ["a dangling absolute link", "/dangling", true, "/nowhere/at/all"],
    ["a dangling link, not followed", "/dangling", false, "/dangling"],
    ["a loop of two links", "/loop1/x", true, "error ELOOP"],
    ["a loop as the last part", "/loop1", true, "error ELOOP"],
    ["a loop as the last part, not followed", "/loop1", false, "/loop1"],
    ["a link to itself", "/self/x", true, "error ELOOP"],
    ["a file in the middle", "/file/x", true, "error ENOTDIR"],
    ["a link to a file in the middle", "/to-file/x", true, "error ENOTDIR"],
    ["a link to a file at the end", "/to-file", true, "/file"],
  ];
  for (const [name, path, follow, want] of cases) {
    test(`${name}: ${path} -> ${want}`, () => expect(resolved(path, follow)).toBe(want));
  }
});

describe("resolveInRoot() with root /", () => {
  test("resolves as the kernel does, to a canonical path", () => {
    expect(resolveInRoot("/", `${root}/a/b/up/plain/sub`)).toBe(`${root}/plain/sub`);
    // An absolute link is the host's path when the root is /.
    expect(resolveInRoot("/", `${root}/etc/sysctl.d`)).toBe("/real-etc/sysctl.d");
    expect(resolveInRoot("/", "/proc/self/..")).toBe("/proc");
  });
});
