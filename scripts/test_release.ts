/**
 * The release smoke tests (`npm run test:release`, part of `npm test`).
 *
 *   bun scripts/test_release.ts                  # build every target and package into a temp dir, test, remove it
 *   bun scripts/test_release.ts --dir DIR        # test the release and packages already in DIR (CI: dist/release)
 *   bun scripts/test_release.ts [...] FILE...    # run these test files instead of test/release/*
 *
 * The four release binaries are about 420 MB together, and the four packages
 * (scripts/package.ts) about 170 MB more. `npm test` runs this
 * on every change, so it builds them in a private temp directory and removes
 * it afterwards, whether the tests pass, fail or are interrupted: dist/ keeps
 * only what `npm run build` made. `npm run release` still writes
 * dist/release/ for the release workflow, which then tests those very files
 * with `--dir dist/release`. The tests find the release in
 * `VMAUDIT_RELEASE_DIR`, and get a TMPDIR inside the private directory.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = join(import.meta.dir, "..");
const DEFAULT_FILES = [
  "./test/release/artifacts.release.ts",
  "./test/release/install.release.ts",
  "./test/release/packages.release.ts",
  "./test/release/deb_install.release.ts",
];
/**
 * How the packages of a release built here are made: xz level 0, which only
 * changes their size (the release workflow packs at level 6 with
 * `npm run package` and tests those with --dir).
 */
const PACKAGE_ARGS = ["--fast"];
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

function usage(message: string): never {
  console.error(`test_release: ${message}`);
  console.error("Usage: bun scripts/test_release.ts [--dir DIR] [TEST_FILE...]");
  process.exit(2);
}

function parseArgs(args: string[]): { dir: string | undefined; files: string[] } {
  let dir: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--dir") {
      const v = args[++i];
      if (!v) usage(`Missing the value of --dir: expected a release directory`);
      dir = resolve(v);
    } else if (a.startsWith("-")) {
      usage(`Unknown option "${a}": expected --dir DIR or test files`);
    } else {
      files.push(a);
    }
  }
  return { dir, files: files.length ? files : DEFAULT_FILES };
}

let child: ReturnType<typeof Bun.spawn> | undefined;
let stoppedBy: string | undefined;

/** Run a command in the repository, with `env` added; resolves with its exit code. */
async function run(cmd: string[], env: Record<string, string> = {}): Promise<number> {
  child = Bun.spawn(cmd, {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  });
  const code = await child.exited;
  child = undefined;
  return code;
}

async function main(): Promise<number> {
  const { dir, files } = parseArgs(process.argv.slice(2));
  // Everything lands in one private directory that is removed at the end:
  // the release build (unless --dir) and, through TMPDIR, every temp file the
  // tests make, even when they are killed before their own clean-up runs.
  const work = mkdtempSync(join(tmpdir(), "vmaudit-release-"));
  const scratch = join(work, "tmp");
  mkdirSync(scratch);
  // A terminal's Ctrl-C reaches the child too; a SIGTERM sent to this process
  // alone is passed on. Either way the temp directory is removed below.
  for (const signal of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
    process.on(signal, () => {
      stoppedBy ??= signal;
      child?.kill(signal);
    });
  }
  try {
    const release = dir ?? join(work, "release");
    if (dir === undefined) {
      const built = await run([
        process.execPath,
        "scripts/build.ts",
        "--release",
        "--outdir",
        release,
      ]);
      if (built !== 0 || stoppedBy) return built || 1;
      const packed = await run(
        [process.execPath, "scripts/package.ts", "--dir", release, ...PACKAGE_ARGS],
        { TMPDIR: scratch },
      );
      if (packed !== 0 || stoppedBy) return packed || 1;
    }
    return await run([process.execPath, "test", ...files], {
      VMAUDIT_RELEASE_DIR: release,
      // The reproducibility test packs again as the packages were packed.
      VMAUDIT_PACKAGE_ARGS: dir === undefined ? PACKAGE_ARGS.join(" ") : "",
      TMPDIR: scratch,
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const code = await main();
process.exit(stoppedBy ? (SIGNAL_EXIT[stoppedBy] ?? 1) : code);
