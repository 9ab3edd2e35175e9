/**
 * Files vmaudit writes (--prometheus, watch --save, the sysctl config, the
 * stress journal) are written in a folder reached without following a link
 * another user planted, and a dry run can ask whether the write would work.
 * Real trees with links owned by a second user (uid 65534, nobody).
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitError, errnoCode } from "../src/errors.ts";
import { assertWritable, writeFileAtomic } from "../src/fs/atomic_write.ts";
import { inDir, openDirNoUntrustedLinks, trustedOwners } from "../src/fs/open_dir.ts";
import { readOnlyInMountinfo } from "../src/fs/read_only_mount.ts";
import { rootTest, runBinary } from "./helpers/env.ts";

const NOBODY = 65534;
const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A /tmp-like base (1777) holding: `victim/` (root's folder that must never
 * be written), `real/sub/`, and links. `link(name, target, uid)` makes one
 * owned by `uid`.
 */
function tree() {
  const base = mkdtempSync(join(tmpdir(), "vmaudit-write-"));
  temps.push(base);
  chmodSync(base, 0o1777);
  mkdirSync(join(base, "victim", "sub"), { recursive: true });
  mkdirSync(join(base, "real", "sub"), { recursive: true });
  writeFileSync(join(base, "file"), "x\n");
  return {
    base,
    link(name: string, target: string, uid = 0): string {
      const p = join(base, name);
      symlinkSync(target, p);
      lchownSync(p, uid, uid);
      return p;
    },
    victimEntries: () => readdirSync(join(base, "victim")).sort(),
  };
}

/** Where openDirNoUntrustedLinks lands, relative to the base; or what it throws. */
function landing(base: string, dir: string, followLast = true): string {
  let fd: number | undefined;
  try {
    fd = openDirNoUntrustedLinks(dir, { followLast });
    const real = readlinkSync(inDir(fd));
    return real === base ? "." : real.slice(base.length + 1);
  } catch (err) {
    if (err instanceof ExitError) return `refused: ${err.message}`;
    return `error ${errnoCode(err)}`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

describe("openDirNoUntrustedLinks()", () => {
  const cases: [string, (t: ReturnType<typeof tree>) => string, string | RegExp, boolean?][] = [
    ["a plain folder", (t) => join(t.base, "real/sub"), "real/sub"],
    ["the base itself", (t) => t.base, "."],
    [
      "through root's absolute link",
      (t) => join(t.link("r", join(t.base, "real")), "sub"),
      "real/sub",
    ],
    ["through root's relative link", (t) => join(t.link("r", "real"), "sub"), "real/sub"],
    ["root's link as the last part", (t) => t.link("r", join(t.base, "real")), "real"],
    [
      "root's link as the last part, followLast false",
      (t) => t.link("r", join(t.base, "real")),
      /^refused: Refusing to use ".*\/r": it is a symlink$/,
      false,
    ],
    [
      "another user's link as the last part",
      (t) => t.link("m", join(t.base, "victim"), NOBODY),
      /^refused: Refusing to use ".*\/m": ".*\/m" is a symlink owned by uid 65534, not by root or you/,
    ],
    [
      "another user's link in the middle",
      (t) => join(t.link("m", join(t.base, "victim"), NOBODY), "sub"),
      /^refused: .*"\S*\/m" is a symlink owned by uid 65534/,
    ],
    [
      "another user's link behind root's link",
      (t) => {
        t.link("m", join(t.base, "victim"), NOBODY);
        return join(t.link("r", "m"), "sub");
      },
      /^refused: .*"\S*\/m" is a symlink owned by uid 65534/,
    ],
    [
      ".. after a link goes to the target's parent",
      (t) => `${t.link("r", join(t.base, "real/sub"))}/..`,
      "real",
    ],
    ["a missing folder", (t) => join(t.base, "missing/x"), "error ENOENT"],
    ["a file on the way", (t) => join(t.base, "file/x"), "error ENOTDIR"],
    [
      "a loop of root's links",
      (t) => {
        t.link("l1", "l2");
        t.link("l2", "l1");
        return join(t.base, "l1/x");
      },
      "error ELOOP",
    ],
  ];
  for (const [name, build, want, followLast] of cases) {
    rootTest(`${name}: ${want instanceof RegExp ? "refused" : want}`, () => {
      const t = tree();
      const got = landing(t.base, build(t), followLast ?? true);
      if (want instanceof RegExp) expect(got).toMatch(want);
      else expect(got).toBe(want);
    });
  }

  rootTest("with sudo, the invoking user's links are followed (SUDO_UID)", () => {
    const t = tree();
    const dir = t.link("mine", join(t.base, "real"), NOBODY);
    const fd = openDirNoUntrustedLinks(dir, { trusted: trustedOwners({ SUDO_UID: "65534" }) });
    expect(readlinkSync(inDir(fd))).toBe(join(t.base, "real"));
    closeSync(fd);
  });

  test("trustedOwners(): root, this user, and a numeric SUDO_UID when root", () => {
    const me = process.geteuid?.() ?? 0;
    expect([...trustedOwners({})].sort()).toEqual([...new Set([0, me])].sort());
    expect(trustedOwners({ SUDO_UID: "abc" }).has(Number.NaN)).toBe(false);
    expect(trustedOwners({ SUDO_UID: "1000" }).has(1000)).toBe(me === 0);
  });
});

describe("writeFileAtomic() through a planted folder link", () => {
  rootTest("refuses a parent folder that is another user's link, and writes nothing", () => {
    const t = tree();
    const m = t.link("m", join(t.base, "victim"), NOBODY);
    expect(() => writeFileAtomic(join(m, "x.prom"), "data\n")).toThrow(
      /symlink owned by uid 65534/,
    );
    expect(() => writeFileAtomic(join(m, "sub", "x.prom"), "data\n")).toThrow(
      /symlink owned by uid 65534/,
    );
    expect(t.victimEntries()).toEqual(["sub"]);
    expect(readdirSync(join(t.base, "victim", "sub"))).toEqual([]);
  });

  rootTest("follows root's own link and writes in its target", () => {
    const t = tree();
    const r = t.link("r", join(t.base, "real"));
    writeFileAtomic(join(r, "sub", "x.prom"), "data\n");
    expect(readFileSync(join(t.base, "real", "sub", "x.prom"), "utf8")).toBe("data\n");
    expect(readdirSync(join(t.base, "real", "sub"))).toEqual(["x.prom"]);
  });
});

describe("assertWritable(): the checks of a write, without writing", () => {
  const cases: [string, (t: ReturnType<typeof tree>) => string, object, string | RegExp][] = [
    ["a new file in a writable folder", (t) => join(t.base, "real/x"), {}, "ok"],
    ["an existing regular file", (t) => join(t.base, "file"), {}, "ok"],
    [
      "a missing folder",
      (t) => join(t.base, "missing/deeper/x"),
      {},
      /^Cannot write ".*missing\/deeper\/x": ENOENT$/,
    ],
    [
      "a missing folder that will be created",
      (t) => join(t.base, "missing/deeper/x"),
      { createParents: true },
      "ok",
    ],
    [
      "a link at the path",
      (t) => t.link("l", join(t.base, "file")),
      {},
      /^Refusing to write ".*\/l": it is a symlink/,
    ],
    ["a folder at the path", (t) => join(t.base, "real"), {}, /it is not a regular file/],
    [
      "another user's link on the way",
      (t) => join(t.link("m", join(t.base, "victim"), NOBODY), "x"),
      {},
      /symlink owned by uid 65534/,
    ],
    [
      "the reason is added to the message",
      (t) => join(t.base, "missing/x"),
      { why: "so nothing was changed" },
      /ENOENT: so nothing was changed$/,
    ],
  ];
  for (const [name, build, opts, want] of cases) {
    rootTest(`${name}: ${want instanceof RegExp ? "refused" : want}`, () => {
      const t = tree();
      let got = "ok";
      try {
        assertWritable(build(t), opts);
      } catch (err) {
        if (!(err instanceof ExitError)) throw err;
        got = err.message;
      }
      if (want instanceof RegExp) expect(got).toMatch(want);
      else expect(got).toBe(want);
      expect(existsSync(join(t.base, "missing"))).toBe(false);
    });
  }
});

describe("readOnlyInMountinfo()", () => {
  const text = [
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard",
    "63 22 254:0 /tmp/t/etc /etc/sysctl.d ro,relatime - ext4 /dev/vda rw,discard",
    "70 22 0:50 / /mnt/iso ro,relatime shared:9 master:2 - iso9660 /dev/sr0 ro",
    "71 22 0:51 / /mnt/fsro rw,relatime - ext4 /dev/vdb ro,errors=remount-ro",
    "72 22 0:52 / /mnt/optional rw,relatime shared:3 master:1 propagate_from:1 - tmpfs tmpfs rw",
    "",
  ].join("\n");
  const cases: [number, boolean | undefined][] = [
    [22, false],
    [63, true],
    [70, true],
    [71, true],
    [72, false],
    [99, undefined],
    [0, undefined],
  ];
  for (const [id, want] of cases) {
    test(`mount ${id}: ${want}`, () => expect(readOnlyInMountinfo(text, id)).toBe(want));
  }
});

describe("the binary: --prometheus and watch --save refuse a planted folder link", () => {
  rootTest(
    "scan --prometheus into another user's link to root's folder: exit 1, nothing written",
    () => {
      const t = tree();
      const m = t.link("m", join(t.base, "victim"), NOBODY);
      for (const file of [join(m, "vmaudit.prom"), join(m, "sub", "vmaudit.prom")]) {
        const r = runBinary(["scan", "--prometheus", file]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          /^vmaudit: Refusing to use ".*": ".*\/m" is a symlink owned by uid 65534/,
        );
      }
      expect(t.victimEntries()).toEqual(["sub"]);
      expect(readdirSync(join(t.base, "victim", "sub"))).toEqual([]);
      // Root's own link is fine.
      const ok = runBinary([
        "scan",
        "--prometheus",
        join(t.link("r", join(t.base, "real")), "vmaudit.prom"),
      ]);
      expect(ok.stderr).toBe("");
      expect(ok.code).toBe(0);
      expect(readFileSync(join(t.base, "real", "vmaudit.prom"), "utf8")).toMatch(/^# HELP /);
    },
  );

  rootTest(
    "watch --save into another user's link to root's folder: exit 1, nothing written",
    () => {
      const t = tree();
      const m = t.link("m", join(t.base, "victim"), NOBODY);
      const r = runBinary([
        "watch",
        "--duration",
        "0.05",
        "--interval",
        "0.02",
        "--save",
        join(m, "peaks.json"),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/".*\/m" is a symlink owned by uid 65534/);
      expect(t.victimEntries()).toEqual(["sub"]);
    },
  );

  rootTest(
    "a user writes through a folder it may search but not read (0711), as open(2) allows",
    () => {
      const t = tree();
      const priv = join(t.base, "priv");
      mkdirSync(join(priv, "pub"), { recursive: true });
      chmodSync(priv, 0o711);
      chownSync(join(priv, "pub"), NOBODY, NOBODY);
      const r = runBinary(["scan", "--prometheus", join(priv, "pub", "vmaudit.prom")], {
        prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(readFileSync(join(priv, "pub", "vmaudit.prom"), "utf8")).toMatch(/^# HELP /);
    },
  );

  rootTest("under sudo, the invoking user's own link is followed", () => {
    const t = tree();
    const mine = t.link("mine", join(t.base, "real"), NOBODY);
    const r = runBinary(["scan", "--prometheus", join(mine, "vmaudit.prom")], {
      env: { SUDO_UID: "65534" },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(t.base, "real", "vmaudit.prom"))).toBe(true);
  });
});
