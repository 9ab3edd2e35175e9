/**
 * The compiled binary's --prometheus and watch --save refuse a folder link
 * another user planted (uid 65534, nobody), and follow root's and the sudo
 * user's own.
 */
import { afterEach, describe, expect } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { rootTest, runBinary } from "../helpers/env.ts";
import { linkTree, NOBODY } from "../helpers/link_tree.ts";

const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tree = () => linkTree(temps);

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
