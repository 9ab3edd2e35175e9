import { describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { buildCommit, buildDate, RELEASE_TARGETS, sha256sumsLine } from "../../scripts/build.ts";
import { MAN_PAGE_INPUT, packageFileNames } from "../../scripts/package_meta.ts";
import { BINARY, REPO, runBinary } from "../helpers/env.ts";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function gitHead(): string {
  const p = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], {
    cwd: REPO,
    stdout: "pipe",
  });
  return p.stdout.toString().trim();
}

describe("buildCommit()", () => {
  test("uses VMAUDIT_COMMIT when it is set", () => {
    expect(buildCommit({ VMAUDIT_COMMIT: "abc123" })).toBe("abc123");
  });
  test("is the 12-digit HEAD hash, with -dirty for uncommitted changes", () => {
    const commit = buildCommit({});
    expect(commit).toMatch(/^[0-9a-f]{12}(-dirty)?$/);
    expect(commit.startsWith(gitHead())).toBe(true);
  });
});

describe("buildDate()", () => {
  test("is SOURCE_DATE_EPOCH's day in UTC when it is set", () => {
    expect(buildDate({ SOURCE_DATE_EPOCH: "1700000000" })).toBe("2023-11-14");
    expect(buildDate({ SOURCE_DATE_EPOCH: "0" })).toBe("1970-01-01");
  });
  test("refuses a SOURCE_DATE_EPOCH that is not seconds", () => {
    expect(() => buildDate({ SOURCE_DATE_EPOCH: "yesterday" })).toThrow(
      'Cannot use SOURCE_DATE_EPOCH "yesterday": expected seconds since 1970',
    );
  });
  test("is the HEAD commit's day otherwise, not today's", () => {
    const p = Bun.spawnSync(["git", "log", "-1", "--format=%ct", "HEAD"], {
      cwd: REPO,
      stdout: "pipe",
    });
    const seconds = Number(p.stdout.toString().trim());
    expect(buildDate({})).toBe(new Date(seconds * 1000).toISOString().slice(0, 10));
  });
});

describe("release targets", () => {
  test("are the four Linux artifacts the issue names, each with its Bun target", () => {
    expect(RELEASE_TARGETS.map((t) => [t.artifact, t.target])).toEqual([
      ["vmaudit-linux-x64", "bun-linux-x64"],
      ["vmaudit-linux-x64-baseline", "bun-linux-x64-baseline"],
      ["vmaudit-linux-arm64", "bun-linux-arm64"],
      ["vmaudit-linux-x64-musl", "bun-linux-x64-musl"],
    ]);
  });
  test("sha256sumsLine() writes the two-space format sha256sum -c reads", () => {
    expect(sha256sumsLine("vmaudit-linux-x64", "ab".repeat(32))).toBe(
      `${"ab".repeat(32)}  vmaudit-linux-x64\n`,
    );
  });
});

test("the compiled dist/vmaudit prints the package version and the commit it was built from", () => {
  const r = runBinary(["--version"]);
  expect(r.code).toBe(0);
  // HEAD, maybe -dirty: a tracked file edited after the build (README) must
  // not fail this; VMAUDIT_COMMIT, when set, overrides it.
  const set = process.env.VMAUDIT_COMMIT;
  const commit = set ? escapeRegExp(set) : `${gitHead()}(-dirty)?`;
  expect(r.stdout).toMatch(
    new RegExp(`^vmaudit ${escapeRegExp(pkg.version)} \\(commit ${commit}\\)\n$`),
  );
});

test("the compiled binary ignores a .env file in the working directory", () => {
  // Bun's executables load ./.env by default; vmaudit runs as root from any
  // directory, so scripts/build.ts turns that off. FORCE_COLOR would show.
  const dir = mkdtempSync(join(tmpdir(), "vmaudit-dotenv-"));
  try {
    writeFileSync(join(dir, ".env"), "FORCE_COLOR=1\n");
    const env = { ...process.env };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const p = Bun.spawnSync([BINARY, "scan", "--top", "1"], { cwd: dir, env, stdout: "pipe" });
    expect(p.exitCode).toBe(0);
    expect(p.stdout.toString()).not.toContain("\u001b[");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every file under `dir` with its size and modification time, or [] when it is missing. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => {
      const st = statSync(join(dir, name));
      return `${name} ${st.size} ${st.mtimeMs}`;
    })
    .sort();
}

describe("npm run test:release", () => {
  test("builds the release for the tests in a temp dir and removes it even when they fail: dist/ is left as it was", async () => {
    const probeDir = mkdtempSync(join(tmpdir(), "vmaudit-release-probe-"));
    try {
      const seenFile = join(probeDir, "seen.json");
      const probe = join(probeDir, "probe.release.ts");
      // A release test that records what it was given, then fails.
      writeFileSync(
        probe,
        `import { test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
test("probe", () => {
  const dir = process.env.VMAUDIT_RELEASE_DIR ?? "";
  writeFileSync(${JSON.stringify(seenFile)}, JSON.stringify({ dir, files: readdirSync(dir).sort() }));
  throw new Error("the probe fails on purpose");
});
`,
      );
      const dist = join(REPO, "dist");
      const before = snapshot(dist);
      const p = Bun.spawn(["npm", "run", "--silent", "test:release", "--", probe], {
        cwd: REPO,
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([
        new Response(p.stdout).text(),
        new Response(p.stderr).text(),
        p.exited,
      ]);
      expect(err + out).toContain("the probe fails on purpose");
      expect(code).not.toBe(0);
      const seen = JSON.parse(readFileSync(seenFile, "utf8")) as { dir: string; files: string[] };
      // The binaries, the man page, and the packages made from them (scripts/package.ts).
      expect(seen.files).toEqual(
        [
          "SHA256SUMS",
          MAN_PAGE_INPUT,
          ...RELEASE_TARGETS.map((t) => t.artifact),
          ...packageFileNames(pkg.version),
        ].sort(),
      );
      expect(relative(REPO, seen.dir).startsWith("..")).toBe(true);
      expect(existsSync(seen.dir)).toBe(false);
      expect(snapshot(dist)).toEqual(before);
    } finally {
      rmSync(probeDir, { recursive: true, force: true });
    }
  }, 180_000);
});
