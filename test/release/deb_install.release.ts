/**
 * The .deb of this machine's architecture installed on this machine with
 * dpkg, used, and removed again: the binary, `man vmaudit`, the completions
 * through each shell's own loader, the units through `systemd-analyze verify` and a real
 * systemd (in a container that shares /usr), then `dpkg -r` and
 * `dpkg --purge` leave the file system as it was.
 *
 * dpkg changes the machine, so everything runs under the kernel lock
 * (helpers/kernel_lock.ts), and nothing of vmaudit may be on the machine
 * before: the test refuses, rather than replace or remove someone's vmaudit.
 * Needs root; run by `npm run test:release`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { buildCommit } from "../../scripts/build.ts";
import {
  debFileName,
  EXPORTER_PORT,
  PACKAGE_ARCHES,
  packageFiles,
  shippedUnits,
  UNIT_DIR,
} from "../../scripts/package_meta.ts";
import { IS_ROOT } from "../helpers/env.ts";
import { holdKernelLock, type KernelLock } from "../helpers/kernel_lock.ts";
import { parsePromText } from "../helpers/prom_text.ts";
import {
  bootSystemdContainer,
  PODMAN,
  type SystemdContainer,
} from "../helpers/systemd_container.ts";
import { RELEASE } from "./release_dir.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** dpkg's status of vmaudit: "ii" installed, "rc" removed with files left for purge. */
const STATUS_FORMAT = ["$", "{db:Status-Abbrev}"].join("");
const STATUS = ["dpkg-query", "-W", "-f", STATUS_FORMAT, "vmaudit"];

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function run(cmd: string[], env: Record<string, string> = {}): Run {
  const p = Bun.spawnSync(cmd, {
    env: { ...process.env, PATH, LC_ALL: "C", NO_COLOR: "1", SYSTEMD_COLORS: "0", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const arch = PACKAGE_ARCHES.find((a) => a.deb === (process.arch === "arm64" ? "arm64" : "amd64"));
const DEB = join(RELEASE, debFileName(pkg.version, arch?.deb ?? "amd64"));
const FILES = packageFiles("deb", { manPage: true }).map((f) => f.path);
const MAN_PAGE = "/usr/share/man/man1/vmaudit.1.gz";
/** man as a user runs it, without a pager or a terminal: plain text, 80 columns. */
const MAN_ENV = { MANPAGER: "cat", PAGER: "cat", MANWIDTH: "80" };
const TIMER = "vmaudit-textfile.timer";
const SERVICE = "vmaudit-textfile.service";
const EXPORTER = "vmaudit-exporter.service";
const ENABLE_LINK = `/etc/systemd/system/timers.target.wants/${TIMER}`;
/** postinst records, for each unit that can be enabled, where enabling it would link (for purge). */
const DSH_ALSO = shippedUnits()
  .filter((u) => u.installable)
  .map((u) => `/var/lib/systemd/deb-systemd-helper-enabled/${u.name}.dsh-also`);
const TEXTFILE_DIR = "/var/lib/prometheus/node-exporter";

/** Where a package can leave traces: its files, dpkg's records, systemd's links and state. */
const SNAPSHOT_ROOTS = ["/usr", "/etc", "/var/lib/dpkg/info", "/var/lib/systemd", TEXTFILE_DIR];

function snapshot(): Set<string> {
  const roots = SNAPSHOT_ROOTS.filter((r) => existsSync(r));
  const r = run(["find", ...roots, "-xdev"]);
  return new Set(r.stdout.trimEnd().split("\n"));
}

function diff(before: Set<string>, after: Set<string>): { added: string[]; removed: string[] } {
  return {
    added: [...after].filter((p) => !before.has(p)).sort(),
    removed: [...before].filter((p) => !after.has(p)).sort(),
  };
}

/** Why this machine must not get the package installed now, or undefined. */
function refusal(): string | undefined {
  const status = run(STATUS);
  if (status.code === 0 && status.stdout.trim() !== "un" && status.stdout.trim() !== "") {
    return `dpkg knows a vmaudit package here (status "${status.stdout.trim()}"): remove it with 'dpkg --purge vmaudit' first`;
  }
  const present = [...FILES, ENABLE_LINK].filter((p) => {
    try {
      lstatSync(p);
      return true;
    } catch {
      return false;
    }
  });
  if (present.length > 0) return `vmaudit files are on this machine already: ${present.join(", ")}`;
  return undefined;
}

const describeRoot = IS_ROOT ? describe : describe.skip;
if (!IS_ROOT) console.warn("SKIP (needs root): dpkg -i / -r / --purge of the .deb on this machine");

describeRoot(`dpkg -i ${debFileName(pkg.version, arch?.deb ?? "amd64")} on this machine`, () => {
  let lock: KernelLock | undefined;
  let refused: string | undefined;
  let before = new Set<string>();
  let installed: Run | undefined;
  let weInstalled = false;

  beforeAll(async () => {
    lock = await holdKernelLock();
    console.log(
      `kernel lock: held by ${lock.how === "ancestor" ? "the calling flock" : "this test"}`,
    );
    refused = refusal();
    if (refused) return;
    if (!existsSync(DEB)) throw new Error(`${DEB} is missing: run 'npm run package' first`);
    before = snapshot();
    weInstalled = true;
    installed = run(["dpkg", "-i", DEB]);
  }, 30 * 60_000);

  /** Every later test works on our installed package, and on nothing else. */
  const requireInstalled = () => {
    if (refused) throw new Error(`Refused to install: ${refused}`);
    if (installed?.code !== 0) throw new Error(`dpkg -i failed: ${installed?.stderr}`);
  };

  afterAll(() => {
    try {
      if (weInstalled) {
        // After a failure halfway: take our package off the machine again.
        const status = run(STATUS).stdout.trim();
        if (status !== "" && status !== "un") run(["dpkg", "--purge", "vmaudit"]);
        if (lstatExists(ENABLE_LINK)) run(["rm", "-f", ENABLE_LINK]);
      }
    } finally {
      lock?.release();
    }
  });

  test("installs: nothing of vmaudit was here before, and dpkg -i succeeds", () => {
    expect(refused).toBeUndefined();
    expect(installed?.stderr).toBe("");
    expect(installed?.code).toBe(0);
  });

  test("vmaudit --version prints the release's version", () => {
    requireInstalled();
    const r = run(["vmaudit", "--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`vmaudit ${pkg.version} (commit ${buildCommit()})`);
    expect(Bun.which("vmaudit", { PATH })).toBe("/usr/bin/vmaudit");
  });

  test("man vmaudit shows the installed page, found in /usr/share/man, without a warning", () => {
    requireInstalled();
    expect(run(["man", "-w", "vmaudit"], MAN_ENV).stdout.trim()).toBe(MAN_PAGE);
    const r = run(["man", "--warnings", "vmaudit"], MAN_ENV);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^VMAUDIT\(1\) +User Commands +VMAUDIT\(1\)$/m);
    expect(r.stdout).toMatch(/^ +vmaudit - count the VMAs of every process/m);
    expect(r.stdout).toMatch(
      new RegExp(`^vmaudit ${pkg.version.replaceAll(".", "\\.")} .*VMAUDIT\\(1\\)$`, "m"),
    );
    // The installed binary prints the installed page.
    const gz = readFileSync(MAN_PAGE);
    expect(Buffer.from(Bun.gunzipSync(new Uint8Array(gz))).toString()).toBe(
      run(["vmaudit", "help", "--man"]).stdout,
    );
  });

  test("dpkg -L lists the package's files, and they are what appeared on disk (with dpkg's records)", () => {
    requireInstalled();
    const listed = run(["dpkg", "-L", "vmaudit"]).stdout.trimEnd().split("\n");
    for (const f of FILES) expect(listed).toContain(f);
    const { added, removed } = diff(before, snapshot());
    expect(removed).toEqual([]);
    const expected = new Set([
      ...listed.filter((p) => !before.has(p) && p !== "/."),
      ...["list", "md5sums", "postinst", "postrm", "prerm"].map(
        (s) => `/var/lib/dpkg/info/vmaudit.${s}`,
      ),
      // postinst records where enabling the units would link, for purge.
      ...DSH_ALSO,
    ]);
    expect(added).toEqual([...expected].sort());
  });

  test("bash completes vmaudit through bash-completion's loader, with no setup", () => {
    requireInstalled();
    const complete = (...words: string[]) => {
      const r = run([
        "bash",
        "--norc",
        "--noprofile",
        join(import.meta.dir, "complete_vmaudit.bash"),
        ...words,
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return r.stdout.split("\n").map((w) => w.trim());
    };
    expect(complete("sc")).toContain("scan");
    expect(complete("scan", "--for")).toContain("--format");
  });

  test("zsh finds _vmaudit on its default $fpath, and fish completes from vendor_completions.d", () => {
    requireInstalled();
    const zsh = run([
      "zsh",
      "-f",
      "-c",
      "autoload -Uz compinit && compinit -u -D && print -r -- $_comps[vmaudit]",
    ]);
    expect(zsh.stdout.trim()).toBe("_vmaudit");
    // Not --no-config: that also empties $fish_complete_path. No HOME, so no user config.
    const fish = run(["fish", "-c", "complete -C 'vmaudit sc'"], {
      HOME: "/nonexistent",
    });
    expect(fish.stdout.split("\n").map((l) => l.split("\t")[0])).toContain("scan");
  });

  test("systemd-analyze verify accepts the installed units, and finds their Documentation=man:vmaudit(1)", () => {
    requireInstalled();
    const units = shippedUnits().map((u) => `${UNIT_DIR}/${u.name}`);
    const r = run(["systemd-analyze", "verify", ...units]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  describe("under systemd (a container booting systemd, sharing this machine's /usr)", () => {
    let box: SystemdContainer | undefined;
    const prom = () => join(box?.rootfs ?? "/nonexistent", TEXTFILE_DIR, "vmaudit.prom");
    const unreadable = () =>
      parsePromText(readFileSync(prom(), "utf8")).find(
        (s) => s.name === "vmaudit_processes_unreadable",
      )?.value;

    beforeAll(async () => {
      if (refused || installed?.code !== 0) return;
      box = await bootSystemdContainer({
        extraDirs: [TEXTFILE_DIR.slice(1)],
        // SYS_ADMIN lets systemd set up each unit's mount namespace
        // (ProtectSystem=, PrivateTmp=, ...). Without it systemd skips
        // those quietly, and refuses DynamicUser= (226/NAMESPACE): the
        // units would not run as they do on a host.
        capAdd: ["SYS_PTRACE", "SYS_ADMIN"],
      });
      // A process of another user, and systemd itself (root with every
      // capability): both closed to a scan without CAP_SYS_PTRACE.
      const nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "sleep",
        "600",
      ];
      Bun.spawnSync([...PODMAN, "exec", "--detach", box.name, ...nobody]);
    }, 120_000);
    afterAll(() => box?.stop());

    test("the README's enable command starts the timer", () => {
      requireInstalled();
      const c = box as SystemdContainer;
      const r = c.exec(["systemctl", "enable", "--now", TIMER]);
      expect(r.code).toBe(0);
      expect(c.exec(["systemctl", "is-enabled", TIMER]).stdout.trim()).toBe("enabled");
      expect(c.exec(["systemctl", "is-active", TIMER]).stdout.trim()).toBe("active");
    });

    test("the service writes metrics node_exporter can read, having read every process", () => {
      requireInstalled();
      const c = box as SystemdContainer;
      const r = c.exec(["systemctl", "start", SERVICE]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(
        c
          .exec([
            "systemctl",
            "show",
            "-p",
            "Result",
            "-p",
            "CapabilityBoundingSet",
            "-p",
            "NoNewPrivileges",
            SERVICE,
          ])
          .stdout.trim()
          .split("\n")
          .sort(),
      ).toEqual(["CapabilityBoundingSet=cap_sys_ptrace", "NoNewPrivileges=yes", "Result=success"]);
      const st = statSync(prom());
      expect([st.mode & 0o777, st.uid]).toEqual([0o644, 0]);
      const check = Bun.spawnSync(["promtool", "check", "metrics"], {
        stdin: readFileSync(prom()),
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(check.exitCode).toBe(0);
      // A scan by root with all the container's capabilities reads as many.
      const full = JSON.parse(c.exec(["vmaudit", "scan", "--json", "--top", "1"]).stdout);
      console.log(
        `in the container: the unit's scan left ${unreadable()} unreadable, a full root scan ${full.coverage.unreadable} (of ${full.coverage.seen})`,
      );
      expect(unreadable()).toBe(full.coverage.unreadable);
      expect(unreadable()).toBe(0);
      const security = c.exec(["systemd-analyze", "security", "--no-pager", SERVICE]).stdout;
      console.log(
        `systemd-analyze security (online, in the container): ${/Overall exposure level for \S+: (.*)/.exec(security)?.[1]}`,
      );
    });

    test("without CAP_SYS_PTRACE the same unit leaves processes unread", () => {
      requireInstalled();
      const c = box as SystemdContainer;
      const dropIn = join(c.rootfs, "etc/systemd/system", `${SERVICE}.d`);
      mkdirSync(dropIn, { recursive: true });
      writeFileSync(
        join(dropIn, "no-ptrace.conf"),
        "[Service]\nCapabilityBoundingSet=~CAP_SYS_PTRACE\n",
      );
      expect(c.exec(["systemctl", "daemon-reload"]).code).toBe(0);
      expect(
        c.exec(["systemctl", "show", "-p", "CapabilityBoundingSet", SERVICE]).stdout.trim(),
      ).toBe("CapabilityBoundingSet=");
      expect(c.exec(["systemctl", "start", SERVICE]).code).toBe(0);
      console.log(`in the container, without CAP_SYS_PTRACE: ${unreadable()} unreadable`);
      expect(unreadable()).toBeGreaterThanOrEqual(2);
    });

    test("the exporter: enabled as the README says, it serves every process's metrics on the loopback address, as a user that is not root", async () => {
      requireInstalled();
      const c = box as SystemdContainer;
      expect(c.exec(["systemctl", "enable", "--now", EXPORTER]).code).toBe(0);
      // The container has its own network namespace: curl (the host's, in
      // the shared /usr) asks its loopback address.
      const url = `http://127.0.0.1:${EXPORTER_PORT}/metrics`;
      let body = "";
      for (let i = 0; i < 50 && body === ""; i++) {
        const r = c.exec(["curl", "-sf", url]);
        if (r.code === 0) body = r.stdout;
        else await Bun.sleep(200);
      }
      expect(body).toContain("vmaudit_exporter_scans_total");
      const samples = parsePromText(body);
      const value = (name: string) => samples.find((x) => x.name === name)?.value;
      const full = JSON.parse(c.exec(["vmaudit", "scan", "--json", "--top", "1"]).stdout);
      console.log(
        `in the container, the exporter unit: ${value("vmaudit_processes_unreadable")} unreadable, a full root scan ${full.coverage.unreadable} (of ${full.coverage.seen})`,
      );
      expect(value("vmaudit_processes_unreadable")).toBe(0);
      expect(value("vmaudit_processes_unreadable")).toBe(full.coverage.unreadable);
      // A dynamic user cannot read /proc/slabinfo: the one metric left out.
      expect(value("vmaudit_kernel_vma_slab_bytes")).toBeUndefined();
      const check = Bun.spawnSync(["promtool", "check", "metrics"], {
        stdin: Buffer.from(body),
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(check.stdout.toString() + check.stderr.toString()).toBe("");
      const show = c
        .exec([
          "systemctl",
          "show",
          "-p",
          "ActiveState",
          "-p",
          "CapabilityBoundingSet",
          "-p",
          "AmbientCapabilities",
          "-p",
          "DynamicUser",
          "-p",
          "NoNewPrivileges",
          EXPORTER,
        ])
        .stdout.trim()
        .split("\n")
        .sort();
      expect(show).toEqual([
        "ActiveState=active",
        "AmbientCapabilities=cap_sys_ptrace",
        "CapabilityBoundingSet=cap_sys_ptrace",
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
      ]);
      const pid = c.exec(["systemctl", "show", "-p", "MainPID", "--value", EXPORTER]).stdout.trim();
      const uid = c.exec(["stat", "-c", "%u", `/proc/${pid}`]).stdout.trim();
      expect(Number(uid)).toBeGreaterThan(0);
      // The sandbox is real: the service has a mount namespace of its own.
      const mountNs = (p: string) => c.exec(["readlink", `/proc/${p}/ns/mnt`]).stdout.trim();
      expect(mountNs(pid)).toMatch(/^mnt:\[\d+\]$/);
      expect(mountNs(pid)).not.toBe(mountNs("1"));
      const security = c.exec(["systemd-analyze", "security", "--no-pager", EXPORTER]).stdout;
      console.log(
        `systemd-analyze security ${EXPORTER} (online, in the container): ${/Overall exposure level for \S+: (.*)/.exec(security)?.[1]}`,
      );
    }, 60_000);

    test("the exporter stops cleanly: systemctl stop gives SIGTERM, it exits 0, and its log is one line per event", () => {
      requireInstalled();
      const c = box as SystemdContainer;
      expect(c.exec(["systemctl", "stop", EXPORTER]).code).toBe(0);
      expect(
        c
          .exec(["systemctl", "show", "-p", "Result", "-p", "ExecMainStatus", EXPORTER])
          .stdout.trim()
          .split("\n")
          .sort(),
      ).toEqual(["ExecMainStatus=0", "Result=success"]);
      const log = c.exec(["journalctl", "--no-pager", "-o", "cat", "-u", EXPORTER]).stdout;
      expect(log).toContain(`listening on http://127.0.0.1:${EXPORTER_PORT}/`);
      expect(log).toContain('"GET /metrics" 200');
      expect(log).toContain("stopping (SIGTERM)");
    });
  });

  test("dpkg -r removes every file it installed; the admin's enable link waits for purge", () => {
    requireInstalled();
    // What an admin does: enable the timer (offline here: this machine's
    // PID 1 is not systemd, and systemctl then only makes the link).
    const enable = run(["systemctl", "enable", TIMER]);
    expect(enable.code).toBe(0);
    expect(lstatExists(ENABLE_LINK)).toBe(true);
    const r = run(["dpkg", "-r", "vmaudit"]);
    expect(r.code).toBe(0);
    for (const f of FILES) expect([f, existsSync(f)]).toEqual([f, false]);
    const man = run(["man", "-w", "vmaudit"], MAN_ENV);
    expect(man.stderr).toBe("No manual entry for vmaudit\n");
    expect(man.code).toBe(16);
    const { added, removed } = diff(before, snapshot());
    expect(removed).toEqual([]);
    expect(added).toEqual(
      [
        ENABLE_LINK,
        ...DSH_ALSO,
        "/var/lib/dpkg/info/vmaudit.list",
        "/var/lib/dpkg/info/vmaudit.postrm",
      ].sort(),
    );
  });

  test("dpkg --purge leaves the file system as it was before the install", () => {
    requireInstalled();
    const r = run(["dpkg", "--purge", "vmaudit"]);
    expect(r.code).toBe(0);
    expect(diff(before, snapshot())).toEqual({ added: [], removed: [] });
    expect(run(["dpkg-query", "-W", "vmaudit"]).code).not.toBe(0);
  });
});

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
