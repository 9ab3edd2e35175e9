/**
 * The stress journal is trusted only where no other user could have written
 * it (sshd's StrictModes rule), over real files owned by a second user
 * (uid 65534, nobody). Needs root to chown; skipped visibly otherwise.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INT_MAX } from "../src/core/kernel_limits.ts";
import { ExitError } from "../src/errors.ts";
import { guardLimitRange } from "../src/limit/guards.ts";
import {
  journalPath,
  journalWarning,
  readJournal,
  untrustedReason,
  writeJournal,
} from "../src/limit/journal.ts";
import { rootTest } from "./helpers/env.ts";
import { codeOf } from "./helpers/exit_code.ts";
import { SAMPLE_JOURNAL } from "./helpers/journal.ts";

const NOBODY = 65534;
const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "vmaudit-journal-"));
  temps.push(d);
  return d;
}

/** A run dir (0700, root) holding a sample journal (0600, root). */
function trustedRunDir(base: string, name = "run"): string {
  const dir = join(base, name);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(journalPath(dir), JSON.stringify(SAMPLE_JOURNAL), { mode: 0o600 });
  return dir;
}

/** What readJournal says: "ok", "none", or the error message. */
function outcome(dir: string): string {
  try {
    return readJournal(dir) ? "ok" : "none";
  } catch (err) {
    if (err instanceof ExitError) return `exit ${err.code}: ${err.message}`;
    throw err;
  }
}

describe("readJournal() trusts only what root alone could have written", () => {
  /** Build the case under `base`; return the run dir to read. */
  const cases: [string, (base: string) => string, RegExp | "ok" | "none"][] = [
    ["a root-owned 0700 dir and 0600 journal", (b) => trustedRunDir(b), "ok"],
    [
      "a root-owned 0755 dir and 0644 journal",
      (b) => {
        const d = trustedRunDir(b);
        chmodSync(d, 0o755);
        chmodSync(journalPath(d), 0o644);
        return d;
      },
      "ok",
    ],
    ["no run dir", (b) => join(b, "missing"), "none"],
    [
      "a run dir without a journal",
      (b) => {
        mkdirSync(join(b, "run"), { mode: 0o700 });
        return join(b, "run");
      },
      "none",
    ],
    [
      "a run dir owned by another user",
      (b) => {
        const d = trustedRunDir(b);
        chownSync(d, NOBODY, NOBODY);
        return d;
      },
      /^exit 1: Refusing the stress run directory ".*\/run": it is owned by uid 65534, not root, so another user could plant a limit journal in it/,
    ],
    [
      "a world-writable run dir (0777)",
      (b) => {
        const d = trustedRunDir(b);
        chmodSync(d, 0o777);
        return d;
      },
      /run directory .*: it is writable by group or others \(mode 0777\)/,
    ],
    [
      "a sticky world-writable run dir, as /tmp (1777)",
      (b) => {
        const d = trustedRunDir(b);
        chmodSync(d, 0o1777);
        return d;
      },
      /run directory .*: it is writable by group or others \(mode 1777\)/,
    ],
    [
      "a group-writable run dir (0770)",
      (b) => {
        const d = trustedRunDir(b);
        chmodSync(d, 0o770);
        return d;
      },
      /run directory .*: it is writable by group or others \(mode 0770\)/,
    ],
    [
      "a run dir that is a symlink to a trusted one",
      (b) => {
        trustedRunDir(b, "real");
        symlinkSync(join(b, "real"), join(b, "run"));
        return join(b, "run");
      },
      /run directory ".*\/run": it is a symlink/,
    ],
    [
      "a run dir reached through another user's symlink",
      (b) => {
        trustedRunDir(b, "real");
        symlinkSync(b, join(b, "via"));
        lchownSync(join(b, "via"), NOBODY, NOBODY);
        return join(b, "via", "real");
      },
      /run directory .*: ".*\/via" is a symlink owned by uid 65534, not by root or you/,
    ],
    [
      "a run dir reached through root's own symlink",
      (b) => {
        trustedRunDir(b, "real");
        symlinkSync(b, join(b, "via"));
        return join(b, "via", "real");
      },
      "ok",
    ],
    [
      "a journal owned by another user",
      (b) => {
        const d = trustedRunDir(b);
        chownSync(journalPath(d), NOBODY, NOBODY);
        return d;
      },
      /^exit 1: Refusing the limit journal ".*limit-journal\.json": it is owned by uid 65534, not root, so another user could have written it\. Nothing was restored/,
    ],
    [
      "a world-writable journal (0666)",
      (b) => {
        const d = trustedRunDir(b);
        chmodSync(journalPath(d), 0o666);
        return d;
      },
      /limit journal .*: it is writable by group or others \(mode 0666\)/,
    ],
    [
      "a group-writable journal (0620)",
      (b) => {
        const d = trustedRunDir(b);
        chmodSync(journalPath(d), 0o620);
        return d;
      },
      /limit journal .*: it is writable by group or others \(mode 0620\)/,
    ],
    [
      "a journal that is a symlink",
      (b) => {
        const d = trustedRunDir(b);
        const other = trustedRunDir(b, "other");
        rmSync(journalPath(d));
        symlinkSync(journalPath(other), journalPath(d));
        return d;
      },
      /limit journal .*: it is a symlink/,
    ],
    [
      "a journal that is a FIFO (no hang)",
      (b) => {
        const d = join(b, "run");
        mkdirSync(d, { mode: 0o700 });
        Bun.spawnSync(["mkfifo", "-m", "0600", journalPath(d)]);
        return d;
      },
      /limit journal .*: it is not a regular file/,
    ],
    [
      "a journal that is a directory",
      (b) => {
        const d = join(b, "run");
        mkdirSync(journalPath(d), { recursive: true, mode: 0o700 });
        chmodSync(d, 0o700);
        return d;
      },
      /limit journal .*: it is not a regular file/,
    ],
  ];
  for (const [name, build, want] of cases) {
    rootTest(`${name}: ${want instanceof RegExp ? "refused" : want}`, () => {
      const got = outcome(build(tempDir()));
      if (want instanceof RegExp) expect(got).toMatch(want);
      else expect(got).toBe(want);
    });
  }

  rootTest("an untrusted journal is refused by journalWarning() too, not repeated as fact", () => {
    const d = trustedRunDir(tempDir());
    chownSync(journalPath(d), NOBODY, NOBODY);
    expect(journalWarning(d)).toMatch(/^Refusing the limit journal/);
  });
});

describe("untrustedReason()", () => {
  const cases: [number, number, string | undefined][] = [
    [0, 0o40700, undefined],
    [0, 0o40755, undefined],
    [0, 0o100600, undefined],
    [0, 0o40775, "it is writable by group or others (mode 0775)"],
    [0, 0o40757, "it is writable by group or others (mode 0757)"],
    [0, 0o41777, "it is writable by group or others (mode 1777)"],
    [NOBODY, 0o40700, "it is owned by uid 65534, not root"],
  ];
  for (const [uid, mode, want] of cases) {
    rootTest(`uid ${uid}, mode ${mode.toString(8)}: ${want ?? "trusted"}`, () => {
      expect(untrustedReason({ uid, mode })).toBe(want);
    });
  }
});

describe("writeJournal()", () => {
  rootTest("creates a missing run dir 0700 and the journal 0600, whatever the umask", () => {
    const d = join(tempDir(), "new", "run");
    const old = process.umask(0);
    try {
      writeJournal(SAMPLE_JOURNAL, d);
    } finally {
      process.umask(old);
    }
    expect(statSync(d).mode & 0o7777).toBe(0o700);
    expect(statSync(journalPath(d)).mode & 0o7777).toBe(0o600);
    expect(readJournal(d)).toEqual(SAMPLE_JOURNAL);
  });

  const refused: [string, (base: string) => string, RegExp][] = [
    [
      "a world-writable dir",
      (b) => {
        mkdirSync(join(b, "run"));
        chmodSync(join(b, "run"), 0o777);
        return join(b, "run");
      },
      /mode 0777/,
    ],
    [
      "another user's dir",
      (b) => {
        mkdirSync(join(b, "run"), { mode: 0o700 });
        chownSync(join(b, "run"), NOBODY, NOBODY);
        return join(b, "run");
      },
      /owned by uid 65534/,
    ],
    [
      "a symlink to a trusted dir",
      (b) => {
        mkdirSync(join(b, "real"), { mode: 0o700 });
        symlinkSync(join(b, "real"), join(b, "run"));
        return join(b, "run");
      },
      /it is a symlink/,
    ],
  ];
  for (const [name, build, message] of refused) {
    rootTest(`refuses ${name} and writes nothing`, () => {
      const base = tempDir();
      const d = build(base);
      expect(() => writeJournal(SAMPLE_JOURNAL, d)).toThrow(message);
      expect(readdirSync(d)).toEqual([]);
    });
  }
});

describe("guardLimitRange(): a restored value is one vm.max_map_count can take", () => {
  const cases: [number, number | undefined][] = [
    [1, undefined],
    [65530, undefined],
    [INT_MAX, undefined],
    [0, 2],
    [-1, 2],
    [INT_MAX + 1, 2],
    [1.5, 2],
    [Number.NaN, 2],
    [Number.MAX_SAFE_INTEGER + 2, 2],
  ];
  for (const [value, code] of cases) {
    test(`${value}: ${code === undefined ? "allowed" : `exit ${code}`}`, () => {
      expect(codeOf(() => guardLimitRange({ what: "restoring", value }))).toBe(code);
    });
  }
});
