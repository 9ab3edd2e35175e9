/**
 * End-to-end: a stress journal planted by another user is never acted on,
 * and a value restored from a trusted journal passes apply's guards. The
 * compiled binary on the real kernel: run under
 * `flock /tmp/vmaudit-kernel.lock`. The limit is saved first and restored
 * (and checked) after every test.
 */
import { afterAll, afterEach, beforeAll, describe, expect } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { journalPath } from "../../src/limit/journal.ts";
import { IS_ROOT, readLimit, rootTest, runBinary } from "../helpers/env.ts";
import { spawnHolder } from "../helpers/holder.ts";

const LIMIT = "/proc/sys/vm/max_map_count";
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
let original = 0;
let base = "";

beforeAll(() => {
  if (!IS_ROOT) return;
  original = readLimit();
  base = mkdtempSync(join(tmpdir(), "vmaudit-e2e-journal-"));
  // Another user must be able to create folders in here, as in /tmp.
  chmodSync(base, 0o1777);
});
afterEach(() => {
  if (!IS_ROOT) return;
  const now = readLimit();
  if (now !== original) writeFileSync(LIMIT, `${original}\n`);
  expect(now).toBe(original);
});
afterAll(() => {
  if (!IS_ROOT) return;
  if (readLimit() !== original) writeFileSync(LIMIT, `${original}\n`);
  rmSync(base, { recursive: true, force: true });
});

function journalText(originalLimit: number, command = "vmaudit stress"): string {
  return JSON.stringify({
    version: 1,
    originalLimit,
    temporaryLimit: 30000,
    pid: 7,
    command,
    startedAt: "2026-01-01T00:00:00.000Z",
  });
}

/** A run dir with a journal, both made by root (0700 / 0600): trusted. */
function rootRunDir(name: string, originalLimit: number, command?: string): string {
  const dir = join(base, name);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(journalPath(dir), journalText(originalLimit, command), { mode: 0o600 });
  return dir;
}

function stress(runDir: string, args: string[] = []) {
  return runBinary(["stress", "--target", "100", "--no-limit-check", ...args], {
    env: { VMAUDIT_RUN_DIR: runDir },
  });
}

describe("a journal another user could have written is refused, and nothing is restored", () => {
  rootTest("the issue's case: another user's folder in /tmp with a planted journal", () => {
    const dir = join(base, "planted");
    // Made by uid 65534 itself: its folder, its file.
    const made = Bun.spawnSync([
      ...NOBODY,
      "sh",
      "-c",
      'mkdir -m 0777 "$1" && printf %s "$2" > "$1/limit-journal.json"',
      "sh",
      dir,
      journalText(original + 7),
    ]);
    expect(made.exitCode).toBe(0);
    expect(statSync(journalPath(dir)).uid).toBe(65534);
    const r = stress(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^vmaudit: Refusing the stress run directory ".*\/planted": it is owned by uid 65534, not root/,
    );
    expect(r.stderr).not.toMatch(/restored/);
    expect(readLimit()).toBe(original);
    expect(existsSync(journalPath(dir))).toBe(true);
  });

  rootTest("root's folder, but world-writable", () => {
    const dir = rootRunDir("world-writable", original + 7);
    chmodSync(dir, 0o777);
    const r = stress(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/writable by group or others \(mode 0777\)/);
    expect(readLimit()).toBe(original);
  });

  rootTest("root's folder, but a journal another user owns", () => {
    const dir = rootRunDir("foreign-journal", original + 7);
    Bun.spawnSync(["chown", "65534:65534", journalPath(dir)]);
    const r = stress(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Refusing the limit journal ".*limit-journal\.json": it is owned by uid 65534, not root.*Nothing was restored/,
    );
    expect(readLimit()).toBe(original);
  });

  rootTest("scan warns that it refuses the journal instead of repeating what it says", () => {
    const dir = rootRunDir("scan-foreign", original + 7);
    Bun.spawnSync(["chown", "65534:65534", journalPath(dir)]);
    const r = runBinary(["scan", "--json"], { env: { VMAUDIT_RUN_DIR: dir } });
    expect(r.code).toBe(0);
    const warnings: string[] = JSON.parse(r.stdout).warnings;
    expect(warnings.some((w) => w.startsWith("Refusing the limit journal"))).toBe(true);
    expect(warnings.some((w) => w.includes(`original value was ${original + 7}`))).toBe(false);
  });
});

describe("a value restored from a trusted journal passes apply's guards", () => {
  rootTest(
    "below a running process's VMA count: exit 2, nothing restored; --force restores",
    async () => {
      const holder = await spawnHolder(5000);
      try {
        const dir = rootRunDir("below-peak", 4000);
        const r = stress(dir);
        expect(r.code).toBe(2);
        const m =
          /Refusing to restore vm\.max_map_count to 4000 from the journal ".*below-peak\/limit-journal\.json": pid (\d+) \(.*\) has (\d+) VMAs now/.exec(
            r.stderr,
          );
        expect(m).not.toBeNull();
        expect(Number(m?.[2])).toBeGreaterThanOrEqual(holder.mapped);
        expect(r.stderr).toMatch(/--force/);
        expect(readLimit()).toBe(original);
        expect(existsSync(journalPath(dir))).toBe(true);
      } finally {
        await holder.stop();
      }
    },
    30_000,
  );

  const outOfRange: [string, number][] = [
    ["above INT_MAX", 2147483648],
    ["zero", 0],
    ["negative", -5],
  ];
  for (const [name, value] of outOfRange) {
    rootTest(`${name} (${value}): exit 2, nothing restored`, () => {
      const dir = rootRunDir(`range-${name.replaceAll(" ", "-")}`, value);
      const r = stress(dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `Refusing to restore vm.max_map_count to ${value} from the journal "${journalPath(dir)}": expected an integer from 1 to 2147483647`,
      );
      expect(readLimit()).toBe(original);
    });
  }
});

describe("the journal's command text is shown escaped", () => {
  rootTest("escape sequences in it reach the terminal as \\xHH, in stress and scan", () => {
    const evil = "vmaudit stress \x1b]0;PWNED\x07\x9b31m";
    const dir = rootRunDir("escaped", original, evil);
    const scan = runBinary(["scan"], { env: { VMAUDIT_RUN_DIR: dir } });
    expect(scan.code).toBe(0);
    expect(scan.stdout).toContain("'vmaudit stress \\x1b]0;PWNED\\x07\\x9b31m'");
    expect(scan.stdout).not.toContain("\x1b");
    const r = stress(dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `restored vm.max_map_count to ${original} from the journal of an unfinished run ('vmaudit stress \\x1b]0;PWNED\\x07\\x9b31m', pid 7,`,
    );
    expect(r.stderr).not.toContain("\x1b");
    expect(r.stderr).not.toContain("\x9b");
    expect(existsSync(journalPath(dir))).toBe(false);
  });
});

describe("the run directory vmaudit creates", () => {
  rootTest(
    "is 0700 even under umask 000, and the journal is gone after the run",
    () => {
      const dir = join(base, "created", "run");
      const r = runBinary(
        ["stress", "--target", "1000", "--limit", String(original + 10), "--no-limit-check"],
        { env: { VMAUDIT_RUN_DIR: dir }, prefix: ["sh", "-c", 'umask 000; exec "$@"', "sh"] },
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(statSync(dir).mode & 0o7777).toBe(0o700);
      expect(existsSync(journalPath(dir))).toBe(false);
    },
    60_000,
  );
});
