/**
 * Compile vmaudit with the version and git commit embedded.
 *
 *   bun scripts/build.ts            # dist/vmaudit for this machine (npm run build)
 *   bun scripts/build.ts --release  # every release target + SHA256SUMS in dist/release/
 *   bun scripts/build.ts --release --outdir DIR  # the same, into DIR
 *   bun scripts/build.ts --man [--out FILE]       # the man page, dist/vmaudit.1 (npm run man)
 *
 * The commit is `git rev-parse --short=12 HEAD`, with `-dirty` when tracked
 * files have uncommitted changes, or `VMAUDIT_COMMIT` from the environment
 * when set (a source tarball has no .git). It is defined at build time as the
 * global `VMAUDIT_COMMIT` that src/version.ts reads; `VMAUDIT_DATE`, the
 * build's date, is SOURCE_DATE_EPOCH or the commit's time (buildDate), never
 * the time of the build, so that builds stay reproducible.
 *
 * A release also has the man page, `vmaudit.1` (listed in SHA256SUMS), which
 * scripts/package.ts packs: rendered from the same command table with the
 * same version and date as `vmaudit help --man` prints (the release test
 * compares the two).
 */
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { renderManPage } from "../src/cli/man_page.ts";
import { COMMANDS } from "../src/commands/index.ts";
import { writeFileAtomic } from "../src/fs/atomic_write.ts";
import { isPackageFileName, MAN_PAGE_INPUT } from "./package_meta.ts";

const REPO = join(import.meta.dir, "..");

/**
 * The container image archive (`npm run image`, scripts/image.ts). Named here
 * so a new release build removes a stale one with the other artifacts.
 */
export const IMAGE_ARTIFACT = "vmaudit-oci-image.tar";

/** One release artifact: the file name users download and Bun's target for it. */
export interface ReleaseTarget {
  artifact: string;
  target: Bun.Build.CompileTarget;
}

/** Every Linux target vmaudit ships, in the order of SHA256SUMS. */
export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  { artifact: "vmaudit-linux-x64", target: "bun-linux-x64" },
  { artifact: "vmaudit-linux-x64-baseline", target: "bun-linux-x64-baseline" },
  { artifact: "vmaudit-linux-arm64", target: "bun-linux-arm64" },
  { artifact: "vmaudit-linux-x64-musl", target: "bun-linux-x64-musl" },
];

function git(args: string[]): { ok: boolean; out: string } {
  const p = Bun.spawnSync(["git", ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  return { ok: p.exitCode === 0, out: p.stdout.toString().trim() };
}

/**
 * The commit string to embed: `VMAUDIT_COMMIT` if set, else the short HEAD
 * hash with `-dirty` for uncommitted changes to tracked files, else "unknown".
 *
 * @example
 * buildCommit({}); // "3fbc59f1a2b4" or "3fbc59f1a2b4-dirty"
 */
export function buildCommit(env: Record<string, string | undefined> = process.env): string {
  if (env.VMAUDIT_COMMIT) return env.VMAUDIT_COMMIT;
  const head = git(["rev-parse", "--short=12", "HEAD"]);
  if (!head.ok || head.out === "") return "unknown";
  // Untracked files (a stray scratch file) do not change the build; edits to
  // tracked files might, so only those mark the binary dirty.
  const status = git(["status", "--porcelain", "--untracked-files=no"]);
  return status.out === "" ? head.out : `${head.out}-dirty`;
}

/**
 * The build's date, YYYY-MM-DD in UTC: SOURCE_DATE_EPOCH when set, else the
 * HEAD commit's time, else "" (no git checkout: a source tarball without
 * SOURCE_DATE_EPOCH). Never the time of the build, so a rebuild of the same
 * commit embeds the same date (reproducible-builds.org).
 *
 * @example
 * buildDate({ SOURCE_DATE_EPOCH: "1700000000" }); // "2023-11-14"
 */
export function buildDate(env: Record<string, string | undefined> = process.env): string {
  const set = env.SOURCE_DATE_EPOCH;
  let seconds: number;
  if (set !== undefined && set !== "") {
    if (!/^\d+$/.test(set))
      throw new Error(`Cannot use SOURCE_DATE_EPOCH "${set}": expected seconds since 1970`);
    seconds = Number(set);
  } else {
    const time = git(["log", "-1", "--format=%ct", "HEAD"]);
    if (!time.ok || !/^\d+$/.test(time.out)) return "";
    seconds = Number(time.out);
  }
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/**
 * The man page as `vmaudit help --man` of a binary built now prints it: the
 * command table of this checkout, package.json's version, buildDate().
 */
export function manPageText(env: Record<string, string | undefined> = process.env): string {
  return renderManPage(COMMANDS, { version: pkg.version, date: buildDate(env) });
}

/**
 * Compile main.ts (or `entry`: the bench's hello world, built the same way)
 * into one executable for `target` (or this machine). Throws with Bun's log
 * when the build fails.
 */
export async function compile(
  outfile: string,
  commit: string,
  target?: ReleaseTarget["target"],
  entry = join(REPO, "main.ts"),
) {
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await Bun.build({
    entrypoints: [entry],
    minify: true,
    bytecode: true,
    // Each command's implementation is a dynamic import() in the command
    // table. Split into ESM chunks, a start loads and evaluates only the
    // table's chunk and then the one command that runs; in one chunk, every
    // command's code is loaded on every start. Measured (Bun 1.4.5, medians
    // of 300 interleaved runs): --version 1.5 ms over a hello world in one
    // chunk, under 1 ms split (ARCHITECTURE.md, "Start-up budget").
    format: "esm",
    splitting: true,
    define: {
      VMAUDIT_COMMIT: JSON.stringify(commit),
      VMAUDIT_DATE: JSON.stringify(buildDate()),
    },
    compile: {
      ...(target ? { target } : {}),
      outfile,
      // vmaudit runs as root from any directory: a .env or bunfig.toml lying
      // in the working directory must not change how it behaves.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  });
  if (!result.success) {
    throw new Error(`Build of ${basename(outfile)} failed:\n${result.logs.join("\n")}`);
  }
}

/**
 * The SHA256SUMS text for the given files, in the two-space format that
 * `sha256sum -c` reads.
 *
 * @example
 * sha256sumsLine("vmaudit-linux-x64", "ab12..."); // "ab12...  vmaudit-linux-x64\n"
 */
export function sha256sumsLine(name: string, hex: string): string {
  return `${hex}  ${name}\n`;
}

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * Compile to `outfile` by way of a private temp directory, then rename, so
 * nobody (a test running the old binary) sees a half-written file. Inside
 * the temp directory the file is always named `vmaudit`: Bun embeds the
 * output's file name in the binary (as /$bunfs/root/NAME, shown in stack
 * traces), and a fixed name keeps builds identical whatever the artifact is
 * called.
 */
async function compileTo(outfile: string, commit: string, target?: ReleaseTarget["target"]) {
  const tmpDir = join(dirname(outfile), `.build-${process.pid}`);
  const tmp = join(tmpDir, "vmaudit");
  try {
    await compile(tmp, commit, target);
    chmodSync(tmp, 0o755);
    renameSync(tmp, outfile);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

async function buildRelease(outdir: string, commit: string): Promise<void> {
  // Remove the previous artifacts first, so a stale one never ships next to
  // fresh SHA256SUMS (the image too: `npm run image` adds it afterwards).
  // Only our own names: --outdir may be any directory.
  mkdirSync(outdir, { recursive: true });
  for (const name of [
    "SHA256SUMS",
    IMAGE_ARTIFACT,
    MAN_PAGE_INPUT,
    ...RELEASE_TARGETS.map((t) => t.artifact),
  ]) {
    rmSync(join(outdir, name), { force: true });
  }
  // Packages of the previous binaries too: SHA256SUMS no longer lists them
  // (npm run package makes them again from the new binaries).
  for (const name of readdirSync(outdir)) {
    if (isPackageFileName(name)) rmSync(join(outdir, name), { force: true });
  }
  let sums = "";
  for (const t of RELEASE_TARGETS) {
    const started = performance.now();
    const out = join(outdir, t.artifact);
    await compileTo(out, commit, t.target);
    const hex = sha256File(out);
    sums += sha256sumsLine(t.artifact, hex);
    const ms = Math.round(performance.now() - started);
    console.log(`${t.artifact}  ${hex.slice(0, 16)}…  ${ms} ms`);
  }
  const man = join(outdir, MAN_PAGE_INPUT);
  writeFileAtomic(man, manPageText());
  sums += sha256sumsLine(MAN_PAGE_INPUT, sha256File(man));
  console.log(`${MAN_PAGE_INPUT}  written`);
  writeFileAtomic(join(outdir, "SHA256SUMS"), sums);
  console.log(`${outdir}/SHA256SUMS written (commit ${commit})`);
}

if (import.meta.main) {
  const commit = buildCommit();
  const args = process.argv.slice(2);
  if (args.includes("--man")) {
    // --out FILE: write it elsewhere (npm run man writes dist/vmaudit.1).
    const o = args.indexOf("--out");
    const out =
      o >= 0 && args[o + 1] ? resolve(args[o + 1] as string) : join(REPO, "dist", MAN_PAGE_INPUT);
    mkdirSync(dirname(out), { recursive: true });
    writeFileAtomic(out, manPageText());
    console.log(`${out} written (read it with: man ${out})`);
  } else if (args.includes("--release")) {
    // --outdir DIR: build elsewhere (the reproducibility test builds a second copy).
    const o = args.indexOf("--outdir");
    const outdir =
      o >= 0 && args[o + 1] ? resolve(args[o + 1] as string) : join(REPO, "dist", "release");
    await buildRelease(outdir, commit);
  } else {
    const outfile = join(REPO, "dist", "vmaudit");
    await compileTo(outfile, commit);
    console.log(`${outfile} (commit ${commit})`);
  }
}
