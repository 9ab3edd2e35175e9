/**
 * `vmaudit apply` with the compiled binary on fake trees and a fake --procfs
 * (its sys/vm/max_map_count is a plain file), so the real kernel and /etc are
 * never touched. Two ways to run it:
 * - `apply`: an offline image, `--root TREE`: only files under it change;
 * - `applyLive`: the running system (no --root) in a private mount namespace
 *   whose sysctl folders show the temp tree, with the fake live value.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../src/cli/command_line.ts";
import { BINARY, rootTest, runBinary } from "../helpers/env.ts";
import { leaveJournal } from "../helpers/journal.ts";
import { makeProcTree, mapsText, SAMPLE_SLABINFO } from "../helpers/proc_tree.ts";
import { handEntries } from "../helpers/sysctl_hand_cases.ts";
import { makeOracleRoot } from "../helpers/sysctl_oracle.ts";
import {
  makeMountPoints,
  makeSysctlRoot,
  type SysctlTree,
  sysctlNamespace,
} from "../helpers/sysctl_tree.ts";
import { snapshot } from "../helpers/tree_snapshot.ts";

const OURS = "/etc/sysctl.d/90-vm_max_map_count.conf";
const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

type RunOpts = { env?: Record<string, string>; prefix?: string[]; readOnly?: string[] };

interface Env {
  root: string;
  proc: string;
  /** Run `vmaudit apply ARGS --root ROOT --procfs PROC`: an offline image. */
  apply(args: string[], opts?: RunOpts): ReturnType<typeof runBinary>;
  /**
   * Run `vmaudit apply ARGS --procfs PROC` on "the running system": in a
   * mount namespace where the sysctl folders are the tree's (`readOnly`
   * folders remounted read-only there).
   */
  applyLive(args: string[], opts?: RunOpts): ReturnType<typeof runBinary>;
  live(): number;
  setLive(v: number): void;
  file(path?: string): string | undefined;
}

/** A fake system: one java process with `peak` VMAs, a live limit, and sysctl config `tree`. */
function fakeSystem(tree: SysctlTree = {}, opts: { peak?: number; live?: number } = {}): Env {
  const root = makeSysctlRoot(tree);
  const proc = makeProcTree({
    processes: {
      4242: { maps: mapsText(opts.peak ?? 100), cmdline: "java\0-jar\0app.jar\0", comm: "java" },
    },
    maxMapCount: String(opts.live ?? 65530),
    slabinfo: SAMPLE_SLABINFO,
  });
  temps.push(root, proc);
  const limitFile = join(proc, "sys", "vm", "max_map_count");
  // An empty run dir: a stress journal elsewhere on the machine must not leak in.
  const env = (o?: RunOpts) => ({ VMAUDIT_RUN_DIR: join(root, "no-run-dir"), ...o?.env });
  return {
    root,
    proc,
    apply: (args, o) =>
      runBinary(["apply", ...args, "--root", root, "--procfs", proc], {
        prefix: o?.prefix,
        env: env(o),
      }),
    applyLive: (args, o) =>
      runBinary(["apply", ...args, "--procfs", proc], {
        prefix: [...sysctlNamespace(root, { readOnly: o?.readOnly }), ...(o?.prefix ?? [])],
        env: env(o),
      }),
    live: () => Number(readFileSync(limitFile, "utf8").trim()),
    setLive: (v) => writeFileSync(limitFile, `${v}\n`),
    file: (path = OURS) => {
      try {
        return readFileSync(join(root, path), "utf8");
      } catch {
        return undefined;
      }
    },
  };
}

const PAST = new Date("2001-02-03T04:05:06Z");

/** `s` as a RegExp source that matches it literally. */
function lit(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

describe("apply --persist under an offline --root", () => {
  rootTest(
    "writes the header and one setting line, mode 0644 and owned by root even under umask 077",
    () => {
      const s = fakeSystem();
      const r = s.apply(["70000", "--persist"], {
        prefix: ["sh", "-c", 'umask 077; exec "$@"', "sh"],
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const text = s.file() ?? "";
      expect(text).toMatch(/^# Written by vmaudit \d+\.\d+\.\d+ on \d{4}-\d\d-\d\dT/);
      // In an image the previous value is its boot value: here the kernel default.
      expect(text).toContain("previous value was 65530");
      expect(text.split("\n").filter((l) => !l.startsWith("#") && l !== "")).toEqual([
        "vm.max_map_count = 70000",
      ]);
      const st = statSync(join(s.root, OURS));
      expect(st.mode & 0o777).toBe(0o644);
      expect([st.uid, st.gid]).toEqual([0, 0]);
      // /etc/sysctl.d did not exist: it is created 0755 despite the umask.
      expect(statSync(join(s.root, "etc/sysctl.d")).mode & 0o777).toBe(0o755);
      expect(statSync(join(s.root, "etc")).mode & 0o777).toBe(0o755);
      // No temp file left behind.
      expect(readdirSync(join(s.root, "etc/sysctl.d"))).toEqual(["90-vm_max_map_count.conf"]);
    },
  );

  rootTest(
    "the live value is neither read nor written, and paths carry the root (text and JSON)",
    () => {
      const s = fakeSystem({ "/usr/lib/sysctl.d/10-arch.conf": "vm.max_map_count = 1048576\n" });
      const r = s.apply(["90000", "--persist", "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(s.live()).toBe(65530);
      const j = JSON.parse(r.stdout);
      expect([j.root, j.live, j.changed, j.value]).toEqual([s.root, null, true, 90000]);
      expect(j.file.path).toBe(`${s.root}${OURS}`);
      expect(j.boot.systemd.winner.path).toBe(`${s.root}${OURS}`);
      expect(j.boot.systemd.order).toEqual([
        `${s.root}/usr/lib/sysctl.d/10-arch.conf`,
        `${s.root}${OURS}`,
      ]);
      // The image's boot value before the change is the "previous" one.
      expect(s.file()).toContain("previous value was 1048576");
      rmSync(join(s.root, OURS));
      const text = s.apply(["90000", "--persist"]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(
        new RegExp(`^Offline root ${lit(s.root)}: only files under it change`),
      );
      expect(text.stdout).not.toMatch(/Current value/);
      expect(text.stdout).toContain(`${s.root}${OURS} was written with:`);
      // The image has no systemd-sysctl, so procps applies its config at boot.
      expect(text.stdout).toContain(`At boot: 90000 with sysctl --system (from ${s.root}${OURS})`);
      expect(s.live()).toBe(65530);
    },
  );

  rootTest("without --persist an offline --root is a usage error (exit 2)", () => {
    const s = fakeSystem();
    const r = s.apply(["90000"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Cannot use --root ".*" without --persist.*offline image/);
    expect(s.live()).toBe(65530);
  });

  rootTest("--show-config does not read the live value of an offline root", () => {
    const s = fakeSystem({}, { live: 123456 });
    const j = JSON.parse(s.apply(["--show-config", "--json"]).stdout);
    expect([j.root, j.liveValue]).toEqual([s.root, null]);
    expect(s.apply(["--show-config"]).stdout).toMatch(/Live value: not read \(an offline image\)/);
    // The running system (no --root) does read it.
    expect(JSON.parse(s.applyLive(["--show-config", "--json"]).stdout).liveValue).toBe(123456);
  });

  rootTest(
    "the write is atomic: a temp file in the open folder, fsynced, then renamed over the target",
    () => {
      const s = fakeSystem({ [OURS]: "# Written by vmaudit\nvm.max_map_count = 1\n" });
      const log = join(s.root, "strace.log");
      const r = s.apply(["70000", "--persist"], {
        prefix: [
          "strace",
          "-f",
          "-qq",
          "-o",
          log,
          "-e",
          "trace=openat,fsync,rename,renameat,renameat2",
        ],
      });
      expect(r.code).toBe(0);
      expect(s.file()).toContain("vm.max_map_count = 70000");
      const lines = readFileSync(log, "utf8").split("\n");
      const fdOf = (line: string | undefined) => /= (\d+)$/.exec(line ?? "")?.[1];
      const open = lines.findIndex((l) =>
        /openat\(.*\/\.90-vm_max_map_count\.conf\..*\.tmp".*O_CREAT\|O_EXCL/.test(l),
      );
      expect(open).toBeGreaterThanOrEqual(0);
      // The temp file is created in the folder reached step by step without
      // following links (O_PATH|O_NOFOLLOW, the last sysctl.d before it) and
      // then opened for fsync through /proc/self/fd.
      const step = lines.findLastIndex(
        (l, i) => i < open && /\/sysctl\.d", O_RDONLY\|.*O_NOFOLLOW.*O_PATH\|O_DIRECTORY/.test(l),
      );
      const reopen = lines.findIndex(
        (l, i) => i > step && l.includes(`"/proc/self/fd/${fdOf(lines[step])}", O_RDONLY`),
      );
      expect(step).toBeGreaterThanOrEqual(0);
      expect(reopen).toBeGreaterThan(step);
      const dirFd = fdOf(lines[reopen]);
      expect(dirFd).toBeDefined();
      expect(lines[open]).toContain(`"/proc/self/fd/${dirFd}/.90-vm_max_map_count.conf.`);
      const fd = fdOf(lines[open]);
      const fsync = lines.findIndex((l, i) => i > open && l.includes(`fsync(${fd})`));
      const rename = lines.findIndex((l) =>
        new RegExp(
          `rename.*"/proc/self/fd/${dirFd}/\\..*\\.tmp", .*"/proc/self/fd/${dirFd}/90-vm_max_map_count\\.conf"\\) = 0`,
        ).test(l),
      );
      expect(fsync).toBeGreaterThan(open);
      expect(rename).toBeGreaterThan(fsync);
      // The folder is fsynced after the rename, so the rename survives a crash.
      expect(lines.some((l, i) => i > rename && l.includes(`fsync(${dirFd})`))).toBe(true);
      // Until the rename, the target is never opened for writing: an
      // interrupted write leaves the old file intact.
      expect(lines.some((l) => /90-vm_max_map_count\.conf", O_WRONLY/.test(l))).toBe(false);
    },
  );

  rootTest("--file NAME writes that name in /etc/sysctl.d", () => {
    const s = fakeSystem();
    const r = s.apply(["70000", "--persist", "--file", "95-games.conf"]);
    expect(r.code).toBe(0);
    expect(s.file("/etc/sysctl.d/95-games.conf")).toContain("vm.max_map_count = 70000");
    expect(s.file()).toBeUndefined();
  });
});

describe("--root: links in the image resolve inside it, never on the host", () => {
  const hosts: string[] = [];
  afterEach(() => {
    for (const d of hosts.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** A host folder holding a config file that must never be read or written through the image. */
  function hostFolder(): string {
    const d = makeSysctlRoot({ "/10-host.conf": "vm.max_map_count = 777777\n" });
    hosts.push(d);
    return d;
  }

  rootTest("etc/sysctl.d as an absolute link: read and written inside the root", () => {
    const host = hostFolder();
    const s = fakeSystem({
      [`${host}/20-image.conf`]: "vm.max_map_count = 200000\n",
      "/etc/sysctl.d": { link: host },
    });
    const show = JSON.parse(s.apply(["--show-config", "--json"]).stdout);
    expect(show.bootValue).toBe(200000);
    expect(show.boot.systemd.order).toEqual([`${s.root}/etc/sysctl.d/20-image.conf`]);
    const hostBefore = snapshot(host);
    const r = s.apply(["90000", "--persist", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).file.path).toBe(`${s.root}${OURS}`);
    // The file went to the link's target inside the image; the host folder is untouched.
    expect(readFileSync(join(s.root, host, "90-vm_max_map_count.conf"), "utf8")).toContain(
      "vm.max_map_count = 90000",
    );
    expect(snapshot(host)).toEqual(hostBefore);
    expect(s.live()).toBe(65530);
  });

  rootTest("etc as an absolute link, and a relative link climbing out with ..", () => {
    const host = hostFolder();
    const s = fakeSystem({
      "/image-etc/sysctl.d/20-image.conf": "vm.max_map_count = 200000\n",
      "/etc": { link: "/image-etc" },
      "/usr/lib/sysctl.d": { link: `../../../../../../../..${host}` },
      [`${host}/30-vendor.conf`]: "vm.max_map_count = 300000\n",
    });
    const j = JSON.parse(s.apply(["--show-config", "--json"]).stdout);
    expect(j.boot.systemd.order).toEqual([
      `${s.root}/etc/sysctl.d/20-image.conf`,
      `${s.root}/usr/lib/sysctl.d/30-vendor.conf`,
    ]);
    expect(j.bootValue).toBe(300000);
    expect(JSON.stringify(j)).not.toContain("777777");
    const hostBefore = snapshot(host);
    expect(s.apply(["400000", "--persist", "--force"]).code).toBe(0);
    expect(readFileSync(join(s.root, "image-etc", OURS.slice(5)), "utf8")).toContain(
      "vm.max_map_count = 400000",
    );
    expect(snapshot(host)).toEqual(hostBefore);
  });
});

describe("apply --persist on the running system (a mount namespace over the sysctl folders)", () => {
  rootTest(
    "a second run with the same value changes nothing: mtime unchanged, changed false",
    () => {
      const s = fakeSystem();
      expect(s.applyLive(["70000", "--persist"]).code).toBe(0);
      expect(s.live()).toBe(70000);
      utimesSync(join(s.root, OURS), PAST, PAST);
      makeMountPoints(s.root);
      const before = snapshot(s.root);
      const r = s.applyLive(["70000", "--persist", "--json"]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.schemaVersion).toBe(1);
      expect(j.changed).toBe(false);
      expect(j.live.changed).toBe(false);
      expect(j.file.action).toBe("unchanged");
      expect(statSync(join(s.root, OURS)).mtime.getTime()).toBe(PAST.getTime());
      expect(snapshot(s.root)).toEqual(before);
      const text = s.applyLive(["70000", "--persist"]);
      expect(text.stdout).toMatch(/already 70000/);
      expect(text.stdout).toMatch(/already sets 70000: left unchanged/);
      expect(text.stdout).toMatch(/Nothing changed/);
    },
  );

  rootTest(
    "a file that already says the value is not rewritten when only the live value differs",
    () => {
      const s = fakeSystem({ [OURS]: "# hand-written\nvm.max_map_count=70000\n" });
      utimesSync(join(s.root, OURS), PAST, PAST);
      const j = JSON.parse(s.applyLive(["70000", "--persist", "--json"]).stdout);
      expect([j.changed, j.live.changed, j.file.changed]).toEqual([true, true, false]);
      expect(s.live()).toBe(70000);
      expect(statSync(join(s.root, OURS)).mtime.getTime()).toBe(PAST.getTime());
      expect(s.file()).toBe("# hand-written\nvm.max_map_count=70000\n");
    },
  );

  rootTest("a symlink at the path is refused, not followed, and nothing changes", () => {
    const s = fakeSystem({
      "/etc/shadow-target": "keep\n",
      [OURS]: { link: "/etc/shadow-target" },
    });
    // Point the link at the real temp file too, to prove it is not followed.
    rmSync(join(s.root, OURS));
    symlinkSync(join(s.root, "etc/shadow-target"), join(s.root, OURS));
    const r = s.applyLive(["70000", "--persist"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Refusing to write ".*90-vm_max_map_count\.conf": it is a symlink/);
    expect(readFileSync(join(s.root, "etc/shadow-target"), "utf8")).toBe("keep\n");
    expect(s.live()).toBe(65530);
  });

  rootTest("a directory at the path is refused and nothing changes", () => {
    const s = fakeSystem();
    mkdirSync(join(s.root, OURS), { recursive: true });
    const r = s.applyLive(["70000", "--persist"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a regular file/);
    expect(s.live()).toBe(65530);
  });

  rootTest(
    "a write failure (read-only folder) leaves the old file intact and the live value unchanged",
    () => {
      const old = "# Written by vmaudit 0.0.1\nvm.max_map_count = 100000\n";
      const s = fakeSystem({ [OURS]: old });
      const dir = join(s.root, "etc/sysctl.d");
      // Root ignores mode bits: a read-only mount is what stops it.
      const r = s.applyLive(["70000", "--persist"], { readOnly: ["/etc/sysctl.d"] });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Cannot write in "\/etc\/sysctl\.d" \(EROFS\)/);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(s.file()).toBe(old);
      expect(readdirSync(dir)).toEqual(["90-vm_max_map_count.conf"]);
      expect(s.live()).toBe(65530);
    },
  );
});

describe("a dry run makes the same checks as the real run", () => {
  const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
  rootTest("a read-only config folder fails --dry-run too, as root and without root", () => {
    const s = fakeSystem();
    mkdirSync(join(s.root, "etc/sysctl.d"), { recursive: true });
    makeMountPoints(s.root);
    const before = snapshot(s.root);
    for (const prefix of [[], nobody]) {
      const r = s.applyLive(["70000", "--persist", "--dry-run"], {
        readOnly: ["/etc/sysctl.d"],
        prefix,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Cannot write in "\/etc\/sysctl\.d" \(EROFS\)/);
      expect(r.stdout).not.toMatch(/would be written/);
    }
    // The same in an offline image.
    const img = s.apply(["70000", "--persist", "--dry-run"], {
      prefix: [
        "unshare",
        "--mount",
        "sh",
        "-c",
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"',
        "sh",
        join(s.root, "etc/sysctl.d"),
      ],
    });
    expect(img.code).toBe(1);
    expect(img.stderr).toMatch(/Cannot write in ".*\/etc\/sysctl\.d" \(EROFS\)/);
    expect(snapshot(s.root)).toEqual(before);
    expect(s.live()).toBe(65530);
  });

  rootTest("a missing config folder is judged by the nearest folder that exists", () => {
    const s = fakeSystem();
    const r = s.apply(["70000", "--persist", "--dry-run"], {
      prefix: [
        "unshare",
        "--mount",
        "sh",
        "-c",
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"',
        "sh",
        s.root,
      ],
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`Cannot write in "${lit(s.root)}" \\(EROFS\\)`));
  });

  rootTest("--reset --dry-run on a read-only folder fails too", () => {
    const s = fakeSystem({ [OURS]: "# Written by vmaudit 0.1.0\nvm.max_map_count = 300000\n" });
    const r = s.applyLive(["--reset", "--dry-run"], { readOnly: ["/etc/sysctl.d"] });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot write in "\/etc\/sysctl\.d" \(EROFS\)/);
  });

  rootTest("a read-only /proc/sys fails --dry-run too", () => {
    const s = fakeSystem();
    const ro = [
      "sh",
      "-c",
      'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"',
      "sh",
      join(s.proc, "sys"),
    ];
    const r = s.applyLive(["70000", "--dry-run"], { prefix: ro });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\(EROFS\): \/proc\/sys is read-only here, as in a container/);
  });

  rootTest(
    "the disk fills after the live value was set: the error says the live value is already changed",
    () => {
      const s = fakeSystem();
      // A one-page tmpfs over /etc/sysctl.d, filled up: creating the temp file
      // works, writing it fails with ENOSPC.
      const full = [
        "sh",
        "-c",
        'mount -t tmpfs -o size=4k tmpfs /etc/sysctl.d && (dd if=/dev/zero of=/etc/sysctl.d/fill bs=4096 count=4 2>/dev/null || true) && exec "$@"',
        "sh",
      ];
      const r = s.applyLive(["70000", "--persist"], { prefix: full });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^vmaudit: Cannot write "\/etc\/sysctl\.d\/90-vm_max_map_count\.conf": ENOSPC\. The live value is already changed: vm\.max_map_count is 70000 now \(it was 65530\), but \/etc\/sysctl\.d\/90-vm_max_map_count\.conf was not written\n/,
      );
      expect(r.stderr).toMatch(/sudo vmaudit apply 65530/);
      expect(s.live()).toBe(70000);
    },
  );
});

describe("boot-time precedence after --persist (offline root: paths carry it)", () => {
  rootTest(
    "an overriding elasticsearch.conf: exit 1, its path and value named, a later --file suggested",
    () => {
      const s = fakeSystem({ "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count=262144\n" });
      const ours = lit(`${s.root}${OURS}`);
      const es = lit(`${s.root}/usr/lib/sysctl.d/elasticsearch.conf`);
      const r = s.apply(["70000", "--persist"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `Another sysctl config overrides ${ours}: ${es} sets vm\\.max_map_count = 262144 at boot, not 70000`,
        ),
      );
      expect(r.stderr).toMatch(
        /--file zz-vm_max_map_count\.conf \(it sorts after elasticsearch\.conf\)/,
      );
      expect(r.stdout).toMatch(new RegExp(`applies ${es} after`));
      // The suggested name really wins.
      rmSync(join(s.root, OURS));
      const fixed = s.apply(["70000", "--persist", "--file", "zz-vm_max_map_count.conf", "--json"]);
      expect(fixed.code).toBe(0);
      const j = JSON.parse(fixed.stdout);
      expect(j.bootValue).toBe(70000);
      expect(j.overrides).toEqual([]);
      expect(j.boot.systemd.winner.path).toBe(`${s.root}/etc/sysctl.d/zz-vm_max_map_count.conf`);
    },
  );

  rootTest("/etc/sysctl.conf setting the key is flagged: procps reads it after every file", () => {
    const s = fakeSystem({ "/etc/sysctl.conf": "vm.max_map_count = 500000\n" });
    const r = s.apply(["70000", "--persist"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${s.root}/etc/sysctl.conf`);
    expect(r.stderr).toContain(
      `remove vm.max_map_count from ${s.root}/etc/sysctl.conf (sysctl --system reads it last)`,
    );
  });

  rootTest("--show-config lists every file that sets the key, in order, and the winner", () => {
    const s = fakeSystem({
      "/usr/lib/sysctl.d/10-arch.conf": "vm.max_map_count = 1048576\n",
      "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 262144\n",
      "/etc/sysctl.d/elasticsearch.conf": { link: "/dev/null" },
      [OURS]: "vm/max_map_count = 120000\n",
      "/etc/sysctl.d/50-other.conf": "kernel.pid_max = 4194304\n",
    });
    const r = s.apply(["--show-config"]);
    expect(r.code).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => l.includes(".conf:"));
    // systemd writes each key once: the earlier assignment is replaced.
    expect(rows[0]).toMatch(
      new RegExp(
        `^ +1048576 +not written +vm\\.max_map_count +${lit(s.root)}/usr/lib/sysctl\\.d/10-arch\\.conf:1$`,
      ),
    );
    expect(rows[1]).toMatch(
      new RegExp(
        `^ +120000 +wins +vm/max_map_count +${lit(s.root)}/etc/sysctl\\.d/90-vm_max_map_count\\.conf:1$`,
      ),
    );
    expect(r.stdout).not.toMatch(/ \n/);
    expect(r.stdout).toContain(
      `${s.root}/usr/lib/sysctl.d/elasticsearch.conf  hidden by ${s.root}/etc/sysctl.d/elasticsearch.conf (a /dev/null mask)`,
    );
    expect(r.stdout).toMatch(/At boot: 120000/);
    const j = JSON.parse(s.apply(["--show-config", "--json"]).stdout);
    expect(j.schemaVersion).toBe(1);
    expect(j.bootValue).toBe(120000);
    expect(j.boot.systemd.settings.map((x: { path: string }) => x.path)).toEqual([
      `${s.root}/usr/lib/sysctl.d/10-arch.conf`,
      `${s.root}${OURS}`,
    ]);
    // On the running system the same tree shows target-system paths.
    const live = JSON.parse(s.applyLive(["--show-config", "--json"]).stdout);
    expect(live.boot.systemd.settings.map((x: { path: string }) => x.path)).toEqual([
      "/usr/lib/sysctl.d/10-arch.conf",
      OURS,
    ]);
  });
});

describe("apply --dry-run", () => {
  rootTest(
    "prints the current and new value, the exact file content and the boot value, and changes nothing",
    () => {
      const s = fakeSystem({ "/usr/lib/sysctl.d/10-arch.conf": "vm.max_map_count = 1048576\n" });
      makeMountPoints(s.root);
      const before = snapshot(s.root);
      const r = s.applyLive(["70000", "--persist", "--dry-run"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Dry run: nothing was changed/);
      expect(r.stdout).toMatch(/Current value: 65530/);
      expect(r.stdout).toMatch(/New value: +70000/);
      expect(r.stdout).toMatch(
        /would be written with:\n +# Written by vmaudit .*\n.*\n +vm\.max_map_count = 70000\n/,
      );
      expect(r.stdout).toMatch(/At boot: 70000 .*from \/etc\/sysctl\.d\/90-vm_max_map_count\.conf/);
      expect(snapshot(s.root)).toEqual(before);
      expect(s.live()).toBe(65530);
    },
  );

  rootTest("a dry run that would be overridden exits 1 and still changes nothing", () => {
    const s = fakeSystem({ "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 262144\n" });
    const before = snapshot(s.root);
    const r = s.apply(["70000", "--persist", "--dry-run", "--json"]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect([j.dryRun, j.changed, j.bootValue, j.suggestedFile]).toEqual([
      true,
      true,
      262144,
      "zz-vm_max_map_count.conf",
    ]);
    expect(snapshot(s.root)).toEqual(before);
    expect(s.live()).toBe(65530);
  });

  rootTest("without --persist, warns that the value is lost at the next boot", () => {
    const s = fakeSystem();
    const r = s.applyLive(["70000", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Without --persist the limit goes back to 65530 at the next boot/);
  });
});

describe("apply --reset", () => {
  rootTest("removes vmaudit's file and sets the value the remaining config gives", () => {
    const s = fakeSystem({ "/usr/lib/sysctl.d/10-vendor.conf": "vm.max_map_count = 200000\n" });
    expect(s.applyLive(["300000", "--persist"]).code).toBe(0);
    expect(s.live()).toBe(300000);
    const r = s.applyLive(["--reset", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.action, j.changed, j.value, j.source, j.file.action]).toEqual([
      "reset",
      true,
      200000,
      "config",
      "remove",
    ]);
    expect(s.file()).toBeUndefined();
    expect(s.live()).toBe(200000);
    // Again: nothing left to do.
    const again = JSON.parse(s.applyLive(["--reset", "--json"]).stdout);
    expect([again.changed, again.file.action]).toEqual([false, "absent"]);
  });

  rootTest("with no other config, resets to the kernel default 65530 and says so", () => {
    const s = fakeSystem();
    expect(s.applyLive(["300000", "--persist"]).code).toBe(0);
    const r = s.applyLive(["--reset"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/New value: +65530 \(the kernel default/);
    expect(r.stdout).toMatch(/90-vm_max_map_count\.conf was removed/);
    expect(s.live()).toBe(65530);
  });

  rootTest("warns about another file vmaudit wrote under a different --file name", () => {
    const s = fakeSystem();
    expect(s.applyLive(["300000", "--persist"]).code).toBe(0);
    expect(s.applyLive(["300000", "--persist", "--file", "zz-vm_max_map_count.conf"]).code).toBe(0);
    const j = JSON.parse(s.applyLive(["--reset", "--json"]).stdout);
    // zz- still sets 300000, so that is what the remaining config gives.
    expect([j.value, j.file.action]).toEqual([300000, "remove"]);
    expect(j.warnings).toContain(
      "/etc/sysctl.d/zz-vm_max_map_count.conf was also written by vmaudit and stays; remove it with 'vmaudit apply --reset --file zz-vm_max_map_count.conf'",
    );
    expect(s.applyLive(["--reset", "--file", "zz-vm_max_map_count.conf"]).code).toBe(0);
    expect(s.live()).toBe(65530);
    expect(readdirSync(join(s.root, "etc/sysctl.d"))).toEqual([]);
  });

  rootTest("refuses to remove a file vmaudit did not write, and changes nothing", () => {
    const s = fakeSystem({ [OURS]: "vm.max_map_count = 300000\n" }, { live: 300000 });
    const r = s.applyLive(["--reset"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /Refusing to remove ".*90-vm_max_map_count\.conf": vmaudit did not write it/,
    );
    expect(s.file()).toBe("vm.max_map_count = 300000\n");
    expect(s.live()).toBe(300000);
  });

  rootTest("--reset --dry-run shows what it would do and changes nothing", () => {
    const s = fakeSystem();
    expect(s.applyLive(["300000", "--persist"]).code).toBe(0);
    makeMountPoints(s.root);
    const before = snapshot(s.root);
    const r = s.applyLive(["--reset", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would be removed/);
    expect(snapshot(s.root)).toEqual(before);
    expect(s.live()).toBe(300000);
  });

  rootTest("under an offline --root only the file goes; the live value stays", () => {
    const s = fakeSystem({ [OURS]: "# Written by vmaudit 0.1.0\nvm.max_map_count = 300000\n" });
    s.setLive(300000);
    const r = s.apply(["--reset", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.live, j.value, j.file.action, j.file.path]).toEqual([
      null,
      65530,
      "remove",
      `${s.root}${OURS}`,
    ]);
    expect(s.file()).toBeUndefined();
    expect(s.live()).toBe(300000);
  });
});

describe("the value and the guards (fake proc tree)", () => {
  rootTest("with no VALUE, sets the recommendation of a fresh scan with the scan's flags", () => {
    const cases: [string[], number][] = [
      [[], 120000],
      [["--headroom", "2"], 160000],
      [["--vma", "100000"], 150000],
      [["--round", "1", "--headroom", "1.25"], 100000],
    ];
    for (const [flags, expected] of cases) {
      const s = fakeSystem({}, { peak: 80000 });
      const r = s.applyLive([...flags, "--json"]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect([j.value, j.source]).toEqual([expected, "recommendation"]);
      expect(s.live()).toBe(expected);
    }
  });

  rootTest(
    "a VALUE below a running process's VMA count is refused, naming it; --force overrides",
    () => {
      const s = fakeSystem({}, { peak: 80000 });
      const r = s.applyLive(["70000", "--persist"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Refusing VALUE 70000: pid 4242 \(java\) has 80000 VMAs now/);
      expect(r.stderr).toMatch(/--force/);
      expect(s.live()).toBe(65530);
      expect(s.file()).toBeUndefined();
      expect(s.applyLive(["70000", "--force"]).code).toBe(0);
      expect(s.live()).toBe(70000);
      // In an offline image the running processes do not matter.
      expect(s.apply(["60000", "--persist"]).code).toBe(0);
      expect(s.file()).toContain("vm.max_map_count = 60000");
    },
  );

  rootTest(
    "a VALUE above 1048576 is refused with the worst-case kernel memory; --force overrides",
    () => {
      const s = fakeSystem();
      const r = s.applyLive(["2000000", "--persist"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/above 1048576/);
      expect(r.stderr).toMatch(
        /366\.2 MiB of unswappable kernel memory \(2000000 x 192-byte vm_area_struct\)/,
      );
      expect(s.live()).toBe(65530);
      expect(s.file()).toBeUndefined();
      // The same guard holds for an offline image.
      expect(s.apply(["2000000", "--persist"]).code).toBe(2);
      expect(s.file()).toBeUndefined();
      expect(s.applyLive(["2000000", "--force"]).code).toBe(0);
      expect(s.live()).toBe(2000000);
    },
  );

  rootTest("warns on stderr while a stress journal exists", () => {
    const s = fakeSystem();
    const run = join(s.root, "run-vmaudit");
    leaveJournal(run);
    const r = s.applyLive(["70000", "--json"], { env: { VMAUDIT_RUN_DIR: run } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vmaudit: warning: .*original value was 65530/);
    expect(JSON.parse(r.stdout).value).toBe(70000);
  });
});

describe("without root", () => {
  const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
  rootTest("exits 77 and shows the exact command to rerun with sudo", () => {
    const s = fakeSystem();
    const r = s.apply(["70000", "--persist"], { prefix: nobody });
    expect(r.code).toBe(77);
    expect(r.stderr).toBe(
      `vmaudit: vmaudit apply needs root: sudo ${shellQuote(BINARY)} apply 70000 --persist --root ${s.root} --procfs ${s.proc}\n`,
    );
    expect(s.live()).toBe(65530);
    expect(s.file()).toBeUndefined();
  });

  rootTest("--dry-run and --show-config only read, so they work without root", () => {
    const s = fakeSystem();
    const dry = s.applyLive(["70000", "--persist", "--dry-run"], { prefix: nobody });
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would be written/);
    expect(s.applyLive(["--show-config"], { prefix: nobody }).code).toBe(0);
    const img = s.apply(["70000", "--persist", "--dry-run"], { prefix: nobody });
    expect(img.stderr).toBe("");
    expect(img.code).toBe(0);
    expect(s.apply(["--show-config"], { prefix: nobody }).code).toBe(0);
    expect(s.live()).toBe(65530);
  });
});

describe("--show-config gives the boot value each tool really gives (compiled binary)", () => {
  // The differences the hardening issue found; each expected value is what
  // systemd-sysctl 252 and procps 4.0.2 gave on the same tree (the
  // differential test checks these and hundreds more against the tools).
  const b = "vm.max_map_count";
  const cases: [string, Parameters<typeof handEntries>[0], number, number][] = [
    [
      "a value with a trailing comment",
      { "/etc/sysctl.d/50-a.conf": `${b} = 262144 # es\n` },
      262144,
      262144,
    ],
    [
      "a value with a trailing word",
      { "/etc/sysctl.d/50-a.conf": `${b} = 262144 abc\n` },
      262144,
      262144,
    ],
    ["a hex value", { "/etc/sysctl.d/50-a.conf": `${b} = 0x40000\n` }, 262144, 262144],
    ["an octal value", { "/etc/sysctl.d/50-a.conf": `${b} = 0100000\n` }, 32768, 32768],
    [
      "a directory in /etc hides /usr/lib",
      {
        "/etc/sysctl.d/50-a.conf": { dir: true },
        "/usr/lib/sysctl.d/50-a.conf": `${b} = 262144\n`,
      },
      65530,
      65530,
    ],
    [
      "a dangling link in /etc hides /usr/lib",
      {
        "/etc/sysctl.d/50-a.conf": { link: "/nowhere" },
        "/usr/lib/sysctl.d/50-a.conf": `${b} = 262144\n`,
      },
      65530,
      65530,
    ],
    [
      "a later -key line cancels (systemd)",
      { "/etc/sysctl.d/50-a.conf": `${b} = 262144\n`, "/etc/sysctl.d/60-a.conf": `-${b}\n` },
      65530,
      262144,
    ],
    ["a hidden .conf file (procps)", { "/etc/sysctl.d/.x.conf": `${b} = 262144\n` }, 65530, 262144],
    [
      "a UTF-8 BOM is part of the key",
      { "/etc/sysctl.d/50-a.conf": `\xef\xbb\xbf${b} = 262144\n` },
      65530,
      65530,
    ],
    ["a glob key", { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\n" }, 262144, 262144],
    [
      "CR-only line ends",
      { "/etc/sysctl.d/50-a.conf": `${b} = 262144\r${b} = 300000\r` },
      300000,
      65530,
    ],
    [
      "a NUL byte",
      { "/etc/sysctl.d/50-a.conf": `${b} = 262144\x00${b} = 300000\n` },
      300000,
      262144,
    ],
    [
      "a file name that is not UTF-8",
      {
        "/etc/sysctl.d/50-z.conf": `${b} = 100000\n`,
        "/etc/sysctl.d/50-\xff.conf": `${b} = 262144\n`,
      },
      262144,
      262144,
    ],
  ];
  for (const [name, spec, systemd, procps] of cases) {
    test(`${name}: systemd ${systemd}, procps ${procps}`, () => {
      const root = makeOracleRoot(handEntries(spec));
      temps.push(root);
      const r = runBinary(["apply", "--show-config", "--json", "--root", root]);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect([j.boot.systemd.value, j.boot.procps.value]).toEqual([systemd, procps]);
    });
  }
});

test("--show-config says when the kernel refuses the value that would win", () => {
  const root = makeOracleRoot(
    handEntries({
      "/etc/sysctl.d/10-a.conf": "vm.max_map_count = 200000\n",
      "/etc/sysctl.d/20-b.conf": "vm.max_map_count = 262144abc\n",
    }),
  );
  temps.push(root);
  const r = runBinary(["apply", "--show-config", "--root", root]);
  expect(r.code).toBe(0);
  // No systemd-sysctl in the root, so procps is the boot reader: it keeps 200000.
  // Paths are shown with the root in front (an offline image).
  expect(r.stdout).toContain(
    `At boot: 200000 with sysctl --system (from ${root}/etc/sysctl.d/10-a.conf); but systemd-sysctl gives 65530`,
  );
  expect(r.stdout).toMatch(
    new RegExp(
      `262144abc \\(refused by the kernel\\) +wins +vm\\.max_map_count +${lit(root)}/etc/sysctl\\.d/20-b\\.conf:1`,
    ),
  );
});
