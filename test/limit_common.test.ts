import { afterEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../src/fs/atomic_write.ts";
import { guardBelowPeak, guardHighValue } from "../src/limit/guards.ts";
import { journalWarning, readJournal, removeJournal } from "../src/limit/journal.ts";
import { bundleForAnyUser } from "./helpers/bundle.ts";
import { rootTest } from "./helpers/env.ts";
import { codeOf } from "./helpers/exit_code.ts";
import { leaveJournal } from "./helpers/journal.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "vmaudit-t-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("guardBelowPeak()", () => {
  const busiest = { pid: 42, app: "java", vmas: 54321 };
  const cases: [number, boolean, number | undefined][] = [
    [54320, false, 2],
    [54321, false, undefined],
    [60000, false, undefined],
    [30000, true, undefined],
  ];
  for (const [value, force, code] of cases) {
    test(`value ${value}${force ? " with --force" : ""} against a peak of 54321: ${code ?? "allowed"}`, () => {
      expect(codeOf(() => guardBelowPeak({ what: `VALUE ${value}`, value, busiest, force }))).toBe(
        code,
      );
    });
  }
  test("names the process and its count", () => {
    expect(() => guardBelowPeak({ what: "VALUE 100", value: 100, busiest, force: false })).toThrow(
      /pid 42 \(java\) has 54321 VMAs/,
    );
  });
});

describe("guardHighValue()", () => {
  const cases: [number, boolean, number | undefined][] = [
    [1_048_576, false, undefined],
    [1_048_577, false, 2],
    [1_048_577, true, undefined],
  ];
  for (const [value, force, code] of cases) {
    test(`value ${value}${force ? " with --force" : ""}: ${code ?? "allowed"}`, () => {
      expect(
        codeOf(() =>
          guardHighValue({ what: "VALUE", value, threshold: 1_048_576, objsize: 192, force }),
        ),
      ).toBe(code);
    });
  }
  test("states the worst-case kernel memory", () => {
    expect(() =>
      guardHighValue({
        what: "VALUE 2097152",
        value: 2_097_152,
        threshold: 1_048_576,
        objsize: 192,
        force: false,
      }),
    ).toThrow(/384\.0 MiB/);
  });
});

describe("writeFileAtomic()", () => {
  test("replaces the file, sets the mode, and leaves no temp file", () => {
    const d = tempDir();
    const f = join(d, "a.conf");
    writeFileSync(f, "old\n");
    writeFileAtomic(f, "new\n", 0o644);
    expect(readFileSync(f, "utf8")).toBe("new\n");
    expect(lstatSync(f).mode & 0o777).toBe(0o644);
    expect(readdirSync(d)).toEqual(["a.conf"]);
  });
  test("refuses a symlink and leaves its target alone", () => {
    const d = tempDir();
    writeFileSync(join(d, "target"), "keep\n");
    symlinkSync(join(d, "target"), join(d, "link"));
    expect(() => writeFileAtomic(join(d, "link"), "x")).toThrow(/symlink/);
    expect(readFileSync(join(d, "target"), "utf8")).toBe("keep\n");
  });
  test("a failed write (missing directory) is an ExitError", () => {
    expect(codeOf(() => writeFileAtomic("/nonexistent-dir/x.conf", "x"))).toBe(1);
  });
});

describe("limit journal", () => {
  test("round-trips, warns while present, and is gone after removal", () => {
    const d = join(tempDir(), "run");
    expect(readJournal(d)).toBeUndefined();
    expect(journalWarning(d)).toBeUndefined();
    leaveJournal(d);
    expect(readJournal(d)?.originalLimit).toBe(65530);
    expect(journalWarning(d)).toMatch(/original value was 65530/);
    removeJournal(d);
    expect(readJournal(d)).toBeUndefined();
  });
  test("a corrupt journal is an error, not a silent pass", () => {
    const d = tempDir();
    writeFileSync(join(d, "limit-journal.json"), "{not json");
    expect(() => readJournal(d)).toThrow(/corrupt/);
    expect(journalWarning(d)).toMatch(/corrupt/);
  });
});

describe("journalWarning() without root", () => {
  rootTest("a journal only root can read gives nobody no warning, and root a warning", async () => {
    const d = tempDir();
    leaveJournal(d);
    chmodSync(d, 0o700);
    const script = join(tempDir(), "probe.ts");
    // Bundled, so nobody can load it wherever the checkout is (a 0700 home).
    const journalModule = await bundleForAnyUser(
      join(import.meta.dir, "..", "src", "limit", "journal.ts"),
      dirname(script),
    );
    writeFileSync(
      script,
      `import { journalWarning } from ${JSON.stringify(journalModule)};\nconsole.log(JSON.stringify(journalWarning(${JSON.stringify(d)}) ?? null));\n`,
    );
    chmodSync(dirname(script), 0o755);
    chmodSync(script, 0o644);
    const asUser = (uid: number) =>
      Bun.spawnSync(
        ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", process.execPath, script],
        {
          stdout: "pipe",
          stderr: "pipe",
        },
      ).stdout.toString();
    expect(asUser(65534).trim()).toBe("null");
    expect(asUser(0)).toMatch(/original value was 65530/);
  });
});
