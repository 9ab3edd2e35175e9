/**
 * `vmaudit apply --at-least N` with the compiled binary.
 *
 * On the real kernel (run under the shared kernel lock:
 *   flock /tmp/vmaudit-kernel.lock node_modules/.bin/bun test test/e2e/apply_floor.test.ts):
 * each case sets a temporary limit with `withTemporaryLimit` (journal, set,
 * restore) so it starts below or above the floor whatever this machine's
 * value is, and the restore is asserted. Config paths are a temp tree
 * mounted over the sysctl folders in a private mount namespace, so /etc is
 * never touched.
 *
 * With a fake --procfs (its sys/vm/max_map_count a plain file): garbage in
 * the current value, the high-value guard and --force, and --persist on
 * fixture trees, none of which touch the kernel.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shellQuote } from "../../src/cli/command_line.ts";
import { resultOf, withTemporaryLimit } from "../../src/limit/temporary.ts";
import { BINARY, IS_ROOT, readLimit, rootTest, runBinary } from "../helpers/env.ts";
import { makeProcTree } from "../helpers/proc_tree.ts";
import {
  makeMountPoints,
  makeSysctlRoot,
  type SysctlTree,
  sysctlNamespace,
} from "../helpers/sysctl_tree.ts";
import { snapshot } from "../helpers/tree_snapshot.ts";

const LIMIT = "/proc/sys/vm/max_map_count";
const OURS = "/etc/sysctl.d/90-vm_max_map_count.conf";
const READ_ONLY = "/proc/sys is read-only here, as in a container";
const CONTAINER_FIX =
  "vm.max_map_count belongs to the host kernel and is not namespaced: run this in a privileged container or on the host";

let work = "";
let original = 0;
const made: string[] = [];

beforeAll(() => {
  if (!IS_ROOT) return;
  original = readLimit();
  work = mkdtempSync(join(tmpdir(), "vmaudit-floor-"));
});

afterAll(() => {
  if (!IS_ROOT) return;
  if (readLimit() !== original) writeFileSync(LIMIT, `${original}\n`);
  for (const d of [work, ...made]) rmSync(d, { recursive: true, force: true });
  expect(readLimit()).toBe(original);
});

/** Run `body` with the real vm.max_map_count at `value` (journal, set, restore), then check the restore. */
async function withLimit(value: number, body: () => void): Promise<void> {
  resultOf(
    await withTemporaryLimit(
      value,
      { procfs: "/proc", runDir: join(work, "run"), command: "test/e2e/apply_floor.test.ts" },
      body,
    ),
  );
  expect(readLimit()).toBe(original);
}

type RunOpts = { prefix?: string[] };

/** `vmaudit apply ARGS`, with an empty run dir so a stress journal elsewhere does not leak in. */
function apply(args: string[], opts: RunOpts = {}) {
  return runBinary(["apply", ...args], {
    prefix: opts.prefix,
    env: { VMAUDIT_RUN_DIR: join(work, "no-run-dir") },
  });
}

function tree(t: SysctlTree = {}): string {
  const root = makeSysctlRoot(t);
  made.push(root);
  return root;
}

/** A fake proc tree whose sys/vm/max_map_count holds `text`. */
function fakeProc(text: string): { procfs: string; file: string } {
  const procfs = makeProcTree({ processes: {}, maxMapCount: "1" });
  made.push(procfs);
  const file = join(procfs, "sys/vm/max_map_count");
  writeFileSync(file, text);
  return { procfs, file };
}

/** strace of every call that could change a file, with fds shown as paths (-y). */
const CHANGES =
  "trace=openat,open,creat,write,pwrite64,writev,pwritev,pwritev2,rename,renameat,renameat2,mkdir,mkdirat,unlink,unlinkat,link,linkat,symlink,symlinkat,truncate,ftruncate,chmod,fchmod,fchmodat,chown,fchown,fchownat,utimensat";

/** The lines of a `CHANGES` log that change something: opens for writing, writes outside stdout/stderr, any rename, mkdir, unlink, .... */
function changesIn(log: string): string[] {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.includes("+++ exited"))
    .filter((l) => {
      if (/\bopen(at)?\(/.test(l)) return /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(l);
      // stdout is a pipe or /dev/null here; anything else written is a change.
      if (/\b(p?writev?2?|pwrite64)\(/.test(l))
        return !/\((1|2|\d+<(pipe|\/dev\/null)[^>]*>), /.test(l);
      return true;
    });
}

describe("apply --at-least on the real kernel (temporary limits, restored)", () => {
  rootTest(
    "raises a lower live value to N and reads it back; a second run changes nothing",
    async () => {
      await withLimit(70000, () => {
        const r = apply(["--at-least", "80000", "--json"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const j = JSON.parse(r.stdout);
        expect([j.changed, j.value, j.source, j.file, j.dryRun]).toEqual([
          true,
          80000,
          "at-least",
          null,
          false,
        ]);
        expect(j.live).toEqual({ path: LIMIT, previous: 70000, value: 80000, changed: true });
        expect(readLimit()).toBe(80000);

        const again = apply(["--at-least", "80000", "--json"]);
        expect(again.code).toBe(0);
        expect(JSON.parse(again.stdout).live).toEqual({
          path: LIMIT,
          previous: 80000,
          value: 80000,
          changed: false,
        });
        const text = apply(["--at-least", "80000"]);
        expect(text.code).toBe(0);
        expect(text.stdout).toContain(
          "vm.max_map_count is already 80000, at least 80000: the live value is left alone\n",
        );
        expect(text.stdout).toEndWith("Nothing changed.\n");
        expect(readLimit()).toBe(80000);
      });
    },
  );

  rootTest(
    "never lowers: a higher value is left alone, with no write to /proc/sys and none under /etc (strace)",
    async () => {
      // At boot the tree already gives more than the floor, so --persist has nothing to do either.
      const root = tree({ "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n" });
      makeMountPoints(root);
      const before = snapshot(root);
      const log = join(work, "no-write.strace");
      await withLimit(90000, () => {
        const r = apply(["--at-least", "80000", "--persist", "--json"], {
          prefix: [...sysctlNamespace(root), "strace", "-f", "-qq", "-y", "-o", log, "-e", CHANGES],
        });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const j = JSON.parse(r.stdout);
        expect(j.changed).toBe(false);
        expect(j.live).toEqual({ path: LIMIT, previous: 90000, value: 90000, changed: false });
        expect(j.file).toEqual({ path: OURS, action: "not-needed", changed: false, content: null });
        expect([j.bootValue, j.overrides]).toEqual([1048576, []]);
        expect(readLimit()).toBe(90000);
        // The log is real: it saw the read of the live value ...
        const text = readFileSync(log, "utf8");
        expect(text).toMatch(/openat\(.*"\/proc\/sys\/vm\/max_map_count", O_RDONLY/);
        // ... and nothing that opens for writing, writes, renames or removes.
        expect(changesIn(log)).toEqual([]);
      });
      expect(snapshot(root)).toEqual(before);
    },
    30_000,
  );

  rootTest("--dry-run from below says what it would do and changes nothing", async () => {
    const root = tree();
    makeMountPoints(root);
    const before = snapshot(root);
    await withLimit(70000, () => {
      const r = apply(["--at-least", "80000", "--persist", "--dry-run", "--json"], {
        prefix: sysctlNamespace(root),
      });
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect([j.dryRun, j.changed, j.bootValue]).toEqual([true, true, 80000]);
      expect(j.live).toEqual({ path: LIMIT, previous: 70000, value: 80000, changed: true });
      expect([j.file.action, j.file.content]).toEqual([
        "write",
        expect.stringContaining("vm.max_map_count = 80000\n"),
      ]);
      const text = apply(["--at-least", "80000", "--dry-run"]);
      expect(text.stdout).toStartWith(
        "Dry run: nothing was changed.\nCurrent value: 70000\nAt least:      80000\nWould write 80000 to /proc/sys/vm/max_map_count\n",
      );
      expect(readLimit()).toBe(70000);
    });
    expect(snapshot(root)).toEqual(before);
  });

  /** A private mount namespace where /proc/sys is read-only, as in an unprivileged container. */
  const readOnlyProcSys = [
    "unshare",
    "--mount",
    "sh",
    "-c",
    'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec "$@"',
    "sh",
  ];

  rootTest(
    "a read-only /proc/sys exits 1: run this in a privileged container or on the host",
    async () => {
      await withLimit(70000, () => {
        for (const extra of [[], ["--dry-run"]]) {
          const r = apply(["--at-least", "80000", ...extra], { prefix: readOnlyProcSys });
          expect(r.code).toBe(1);
          expect(r.stdout).toBe("");
          expect(r.stderr).toBe(
            `vmaudit: Cannot write "${LIMIT}" (EROFS): ${READ_ONLY}. ${CONTAINER_FIX}\n`,
          );
          expect(readLimit()).toBe(70000);
        }
      });
    },
  );

  rootTest("a read-only /proc/sys is fine when the value is already at least N", async () => {
    await withLimit(90000, () => {
      const r = apply(["--at-least", "80000", "--json"], { prefix: readOnlyProcSys });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).changed).toBe(false);
    });
  });

  rootTest(
    "a read-back below N exits 1: the write is made to succeed without reaching the kernel (strace inject)",
    async () => {
      await withLimit(70000, () => {
        // strace answers the write(2) of "80000\n" to the sysctl with "6 bytes
        // written" and never lets it reach the kernel, which keeps 70000:
        // what vmaudit sees of a kernel or sandbox that drops the value.
        const syscalls = "write,pwrite64,writev,pwritev";
        const r = apply(["--at-least", "80000"], {
          prefix: [
            "strace",
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-P",
            LIMIT,
            "-e",
            `trace=${syscalls}`,
            "-e",
            `inject=${syscalls}:retval=6`,
          ],
        });
        expect(r.stderr).toBe(
          `vmaudit: Wrote 80000 to "${LIMIT}" but read back 70000, below 80000: the kernel did not keep the value\n`,
        );
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(readLimit()).toBe(70000);
      });
    },
  );

  rootTest("not root exits 77 with the command to rerun, and changes nothing", async () => {
    await withLimit(70000, () => {
      const r = apply(["--at-least", "80000"], {
        prefix: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
      });
      expect(r.code).toBe(77);
      expect(r.stderr).toBe(
        `vmaudit: vmaudit apply needs root: sudo ${shellQuote(BINARY)} apply --at-least 80000\n`,
      );
      expect(readLimit()).toBe(70000);
    });
  });
});

describe("apply --at-least with a fake --procfs (the kernel is not touched)", () => {
  const bad: [string, string, string][] = [
    ["garbage", "garbage\n", 'Cannot use the current vm.max_map_count "garbage"'],
    ["empty", "", 'Cannot use the current vm.max_map_count ""'],
    ["negative", "-1\n", 'Cannot use the current vm.max_map_count "-1"'],
    ["above INT_MAX", "4294967296\n", 'Cannot use the current vm.max_map_count "4294967296"'],
  ];
  for (const [name, text, message] of bad) {
    rootTest(`a current value that is ${name} exits 1 and writes nothing`, () => {
      const { procfs, file } = fakeProc(text);
      for (const extra of [[], ["--dry-run"], ["--json"]]) {
        const r = apply(["--at-least", "262144", "--procfs", procfs, ...extra]);
        expect(r.code).toBe(1);
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(
          `vmaudit: ${message} from "${file}": expected a whole number from 0 to 2147483647\n`,
        );
        expect(readFileSync(file, "utf8")).toBe(text);
      }
    });
  }

  rootTest("a missing current value exits 1 and names the file", () => {
    const { procfs, file } = fakeProc("1");
    rmSync(file);
    const r = apply(["--at-least", "262144", "--procfs", procfs]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `vmaudit: Cannot read the current vm.max_map_count from "${file}": ENOENT\n`,
    );
  });

  rootTest("N above 1048576 needs --force (exit 2), as for apply VALUE", () => {
    const { procfs, file } = fakeProc("65530\n");
    const r = apply(["--at-least", "2000000", "--procfs", procfs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^vmaudit: Refusing --at-least 2000000: above 1048576, one process may pin .* of unswappable kernel memory/,
    );
    expect(readFileSync(file, "utf8")).toBe("65530\n");
    const forced = apply(["--at-least", "2000000", "--procfs", procfs, "--force", "--json"]);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).live.value).toBe(2000000);
    expect(readFileSync(file, "utf8")).toBe("2000000\n");
  });

  rootTest("VALUE with --at-least is a usage error (exit 2)", () => {
    const { procfs, file } = fakeProc("65530\n");
    const r = apply(["300000", "--at-least", "262144", "--procfs", procfs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `vmaudit: Cannot use VALUE "300000" with --at-least 262144: VALUE sets an exact value, --at-least a floor\nRun 'vmaudit apply --help' for usage\n`,
    );
    expect(readFileSync(file, "utf8")).toBe("65530\n");
  });
});

describe("apply --at-least --persist on fixture trees (fake live value, private mount namespace)", () => {
  /** Run on "the running system" whose sysctl folders are `root` and whose live value is the fake one. */
  function persistRun(root: string, procfs: string, extra: string[] = []) {
    return apply(["--at-least", "262144", "--persist", "--procfs", procfs, "--json", ...extra], {
      prefix: sysctlNamespace(root),
    });
  }

  rootTest("the boot value already at least N from another file: nothing is written", () => {
    const root = tree({ "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n" });
    const { procfs, file } = fakeProc("1048576\n");
    makeMountPoints(root);
    const before = snapshot(root);
    const r = persistRun(root, procfs);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.changed, j.file.action, j.bootValue]).toEqual([false, "not-needed", 1048576]);
    expect(snapshot(root)).toEqual(before);
    expect(readFileSync(file, "utf8")).toBe("1048576\n");
  });

  rootTest(
    "vmaudit's own file with a lower value is raised to N; a second run writes nothing",
    () => {
      const old =
        "# Written by vmaudit 0.0.9 on 2024-01-01T00:00:00.000Z\n# The previous value was 65530. Undo: sudo vmaudit apply --reset\nvm.max_map_count = 100000\n";
      const root = tree({ [OURS]: old });
      const { procfs, file } = fakeProc("100000\n");
      const r = persistRun(root, procfs);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect([j.changed, j.file.action, j.bootValue, j.overrides]).toEqual([
        true,
        "write",
        262144,
        [],
      ]);
      const text = readFileSync(join(root, OURS), "utf8");
      expect(text).toMatch(/^# Written by vmaudit \d+\.\d+\.\d+ on /);
      expect(text).toContain("The previous value was 100000.");
      expect(text).toEndWith("\nvm.max_map_count = 262144\n");
      expect(readFileSync(file, "utf8")).toBe("262144\n");

      makeMountPoints(root);
      const before = snapshot(root);
      const again = persistRun(root, procfs);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        changed: false,
        file: { action: "not-needed" },
      });
      expect(snapshot(root)).toEqual(before);
    },
  );

  rootTest(
    "a later file with a lower value overrides it: exit 1, named, with a later --file",
    () => {
      const es = "/usr/lib/sysctl.d/elasticsearch.conf";
      const root = tree({ [es]: "vm.max_map_count = 200000\n" });
      const { procfs, file } = fakeProc("65530\n");
      const r = persistRun(root, procfs);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `vmaudit: Another sysctl config overrides ${OURS}: ${es} sets vm.max_map_count = 200000 at boot, below --at-least 262144\nTo fix it: rerun with --file zz-vm_max_map_count.conf (it sorts after elasticsearch.conf) and delete ${OURS}; or change ${es} itself\n`,
      );
      const j = JSON.parse(r.stdout);
      expect([j.file.action, j.bootValue, j.suggestedFile]).toEqual([
        "write",
        200000,
        "zz-vm_max_map_count.conf",
      ]);
      expect(
        j.overrides.map((o: { reader: string; value: number }) => [o.reader, o.value]),
      ).toEqual([
        ["systemd", 200000],
        ["procps", 200000],
      ]);
      // Written and raised, as apply --persist does, then reported.
      expect(readFileSync(join(root, OURS), "utf8")).toContain("vm.max_map_count = 262144\n");
      expect(readFileSync(file, "utf8")).toBe("262144\n");
      // The suggested name does win.
      const fixed = apply(
        [
          "--at-least",
          "262144",
          "--persist",
          "--file",
          "zz-vm_max_map_count.conf",
          "--procfs",
          procfs,
        ],
        { prefix: sysctlNamespace(root) },
      );
      expect(fixed.code).toBe(0);
    },
  );

  rootTest("a file that would lower one tool and not help the other is not written: exit 1", () => {
    // systemd-sysctl gets 1048576; sysctl --system reads /etc/sysctl.conf last and gets 65530.
    const root = tree({
      "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n",
      "/etc/sysctl.conf": "vm.max_map_count = 65530\n",
    });
    const { procfs } = fakeProc("1048576\n");
    makeMountPoints(root);
    const before = snapshot(root);
    const r = persistRun(root, procfs);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `vmaudit: ${OURS} was not written, and sysctl --system gives 65530 at boot, below --at-least 262144: /etc/sysctl.conf sets it\nTo fix it: remove vm.max_map_count from /etc/sysctl.conf (sysctl --system reads it last); or change /etc/sysctl.conf itself\n`,
    );
    const j = JSON.parse(r.stdout);
    expect([j.changed, j.file.action, j.suggestedFile]).toEqual([false, "not-written", null]);
    expect(j.warnings).toEqual([
      `${OURS} was not written: 262144 there would lower what systemd-sysctl gives at boot (1048576) and still leave sysctl --system below 262144`,
    ]);
    expect(snapshot(root)).toEqual(before);
  });

  rootTest(
    "an offline --root: only the image's boot value matters; the live value is not even read",
    () => {
      const root = tree();
      // Garbage: reading it would fail the run.
      const { procfs, file } = fakeProc("garbage\n");
      const img = () =>
        apply(["--at-least", "262144", "--persist", "--root", root, "--procfs", procfs, "--json"]);
      const r = img();
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect([j.live, j.changed, j.root, j.file.path, j.file.action]).toEqual([
        null,
        true,
        root,
        `${root}${OURS}`,
        "write",
      ]);
      expect(readFileSync(join(root, OURS), "utf8")).toContain("The previous value was 65530.");
      expect(readFileSync(file, "utf8")).toBe("garbage\n");
      makeMountPoints(root);
      const before = snapshot(root);
      const again = img();
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        changed: false,
        file: { action: "not-needed" },
      });
      expect(snapshot(root)).toEqual(before);
      // Without --persist an image has nothing to raise.
      const noPersist = apply(["--at-least", "262144", "--root", root]);
      expect(noPersist.code).toBe(2);
    },
  );
});
