import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { buildCommit, RELEASE_TARGETS, sha256sumsLine } from "../scripts/build.ts";
import { BINARY, REPO, runBinary } from "./helpers/env.ts";

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
