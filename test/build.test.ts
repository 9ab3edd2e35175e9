import { describe, expect, test } from "bun:test";
import pkg from "../package.json" with { type: "json" };
import { buildCommit, RELEASE_TARGETS, sha256sumsLine } from "../scripts/build.ts";
import { REPO, runBinary } from "./helpers/env.ts";

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
  expect(r.stdout).toBe(`vmaudit ${pkg.version} (commit ${buildCommit()})\n`);
});
