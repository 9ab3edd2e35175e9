/**
 * The Ansible role (deploy/ansible/roles/vmaudit) through the real
 * ansible-playbook of Debian's ansible-core, with no network (every run is in
 * an empty network namespace), on an inventory of hosts that all use
 * ansible_connection=local. Each host has its own --root (a config tree in a
 * temp dir: an offline image) and --procfs (a fixture proc tree) through the
 * role's variables, its own install path, and its own value.
 *
 * Needs root (the role installs a root-owned binary, and `vmaudit apply`
 * needs root). The last part sets the real vm.max_map_count through the role,
 * so run this file under the shared kernel lock:
 *   flock /tmp/vmaudit-kernel.lock node_modules/.bin/bun test test/ansible_role.test.ts
 * The original limit is saved first and restored (and checked) in afterAll.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ANSIBLE_DIR,
  debugMessage,
  fatalMessage,
  fileSha256,
  type PlaybookRun,
  parseRecap,
  removeAnsibleHome,
  runPlaybook,
  stageBinary,
  taskStatus,
} from "../helpers/ansible.ts";
import { IS_ROOT, readLimit, rootTest } from "../helpers/env.ts";
import { makeProcTree, mapsText } from "../helpers/proc_tree.ts";
import { makeSysctlRoot, type SysctlTree, sysctlNamespace } from "../helpers/sysctl_tree.ts";
import { snapshot } from "../helpers/tree_snapshot.ts";

const LIMIT = "/proc/sys/vm/max_map_count";
const APPLY_TASK = "vmaudit : Run vmaudit apply";
const REPORT_TASK = "vmaudit : Report what vmaudit did";
const OWN_FILE = "etc/sysctl.d/90-vm_max_map_count.conf";
const HAVE_ANSIBLE = Bun.which("ansible-playbook") !== null;

let work = "";
/** A private copy of dist/vmaudit: the source every host installs. */
let src = "";
let sha256 = "";
let originalLimit = 0;
const runs: Record<string, number> = {};
/** Config and proc trees made in the temp dir, removed in afterAll. */
const made: string[] = [];

/** Inventory-wide variables: every host is this machine. */
function commonVars(): Record<string, unknown> {
  return {
    ansible_connection: "local",
    ansible_python_interpreter: "/usr/bin/python3",
    // The playbook says become: true; the tests already run as root, and
    // there may be no sudo.
    ansible_become: false,
    vmaudit_binary_src: src,
    vmaudit_sha256: sha256,
  };
}

function inventory(hosts: Record<string, Record<string, unknown>>): unknown {
  return { all: { hosts, vars: commonVars() } };
}

/** Run the playbook, remember its time, and fail with its output if `code` differs. */
function play(
  name: string,
  inv: unknown,
  args: string[],
  code: number,
  prefix?: string[],
): PlaybookRun {
  const r = runPlaybook(inv, args, { prefix });
  runs[name] = Math.round(r.ms);
  if (r.code !== code) {
    throw new Error(
      `ansible-playbook exited ${r.code}, expected ${code}:\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r;
}

interface HostSetup {
  /** `vmaudit_value`; ignored when `min` is set. */
  value: number;
  /** `vmaudit_min`: a floor, `vmaudit apply --at-least N`. */
  min?: number;
  tree: SysctlTree;
  /** VMAs of the busiest fixture process. */
  vmas: number;
  /** Install from a file:// URL (get_url) instead of a local path (copy). */
  url?: boolean;
  /** Install the binary before the first run, as an earlier rollout would have. */
  preinstalled?: boolean;
}

/**
 * Hosts that really differ: a fresh image, an image that already has the
 * value (and the binary), one with a vendor file and an old vmaudit file
 * that must be rewritten, and two floors (`vmaudit_min`): one whose boot
 * value is below it, one tuned higher that a floor must leave alone.
 */
const HOSTS: Record<string, HostSetup> = {
  alpha: { value: 262144, tree: {}, vmas: 1200 },
  bravo: {
    value: 524288,
    tree: { [`/${OWN_FILE}`]: "vm.max_map_count = 524288\n" },
    vmas: 40,
    preinstalled: true,
  },
  charlie: {
    value: 1048576,
    tree: {
      "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n",
      [`/${OWN_FILE}`]:
        "# Written by vmaudit 0.0.9 on 2024-01-01T00:00:00.000Z\n# The previous value was 65530. Undo: sudo vmaudit apply --reset\nvm.max_map_count = 65530\n",
    },
    vmas: 300,
    url: true,
  },
  floor: {
    value: 0,
    min: 262144,
    tree: { "/usr/lib/sysctl.d/50-old.conf": "vm.max_map_count = 100000\n" },
    vmas: 500,
  },
  "floor-high": {
    value: 0,
    min: 262144,
    tree: { "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n" },
    vmas: 20,
  },
};

/** The command line vmaudit apply gets for a host: VALUE or --at-least N. */
function applyArg(setup: HostSetup | undefined): string {
  return setup?.min === undefined ? String(setup?.value) : `--at-least ${setup.min}`;
}

interface Host {
  root: string;
  procfs: string;
  binDir: string;
  vars: Record<string, unknown>;
}

/** Make a host's trees; `binDir` may be shared with an earlier host of the same name. */
function makeHost(name: string, setup: HostSetup, binDir?: string): Host {
  const root = makeSysctlRoot(setup.tree);
  const procfs = makeProcTree({
    processes: {
      1: { maps: mapsText(10), cmdline: "init\0", comm: "init" },
      4242: { maps: mapsText(setup.vmas), cmdline: `${name}-app\0`, comm: `${name}-app` },
    },
    maxMapCount: "65530",
  });
  made.push(root, procfs);
  const bin = binDir ?? mkdtempSync(join(work, `bin-${name}-`));
  return {
    root,
    procfs,
    binDir: bin,
    vars: {
      vmaudit_root: root,
      vmaudit_procfs: procfs,
      vmaudit_value: setup.min === undefined ? setup.value : null,
      ...(setup.min === undefined ? {} : { vmaudit_min: setup.min }),
      vmaudit_bin_path: join(bin, "vmaudit"),
      ...(setup.url ? { vmaudit_binary_src: `file://${src}` } : {}),
    },
  };
}

function hostsInventory(hosts: Record<string, Host>): unknown {
  return inventory(Object.fromEntries(Object.entries(hosts).map(([n, h]) => [n, h.vars])));
}

/** The fixture's own "live" value: a --root run must not write it either. */
function fixtureLimit(h: Host): string {
  return readFileSync(join(h.procfs, "sys/vm/max_map_count"), "utf8");
}

beforeAll(() => {
  if (!IS_ROOT || !HAVE_ANSIBLE) return;
  work = mkdtempSync(join(tmpdir(), "vmaudit-ansible-"));
  ({ src, sha256 } = stageBinary(work));
  originalLimit = readLimit();
});

afterAll(() => {
  if (!IS_ROOT || !HAVE_ANSIBLE) return;
  if (readLimit() !== originalLimit) writeFileSync(LIMIT, `${originalLimit}\n`);
  for (const dir of [work, ...made]) rmSync(dir, { recursive: true, force: true });
  removeAnsibleHome();
  if (Object.keys(runs).length > 0) {
    console.log(
      `ansible-playbook run times (ms): ${Object.entries(runs)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    );
  }
  expect(readLimit()).toBe(originalLimit);
});

/** rootTest, and a visible failure (not a skip) when root lacks ansible-playbook. */
function ansibleTest(name: string, fn: () => undefined | Promise<unknown>, timeout = 120_000) {
  rootTest(
    name,
    () => {
      if (!HAVE_ANSIBLE) {
        throw new Error(
          "ansible-playbook is missing: run scripts/test-deps.sh (Debian ansible-core)",
        );
      }
      return fn();
    },
    timeout,
  );
}

describe("the vmaudit role on three hosts with their own --root and --procfs", () => {
  const hosts: Record<string, Host> = {};
  const before: Record<string, Record<string, string>> = {};

  ansibleTest("the first run changes the hosts that need it, and only their files", () => {
    for (const [name, setup] of Object.entries(HOSTS)) {
      hosts[name] = makeHost(name, setup);
      const h = hosts[name];
      if (setup.preinstalled) {
        copyFileSync(src, join(h.binDir, "vmaudit"));
      }
      before[name] = snapshot(h.root);
    }
    const fixtures = Object.fromEntries(
      Object.entries(hosts).map(([n, h]) => [n, fixtureLimit(h)]),
    );
    const r = play("first", hostsInventory(hosts), [], 0);
    console.log(`first run:\n${[...parseRecap(r.stdout).values()].map((l) => l.line).join("\n")}`);

    const recap = parseRecap(r.stdout);
    expect([...recap.keys()].sort()).toEqual(["alpha", "bravo", "charlie", "floor", "floor-high"]);
    for (const l of recap.values()) expect(l.failed).toBe(0);
    expect(recap.get("alpha")?.changed).toBeGreaterThan(0);
    expect(recap.get("charlie")?.changed).toBeGreaterThan(0);
    // bravo already has the binary and the value: nothing to do.
    expect(recap.get("bravo")?.changed).toBe(0);
    // floor-high is above the floor at boot: vmaudit changes nothing there
    // (only the install of the binary is a change).
    expect(Object.fromEntries(taskStatus(r.stdout, APPLY_TASK))).toEqual({
      alpha: "changed",
      bravo: "ok",
      charlie: "changed",
      floor: "changed",
      "floor-high": "ok",
    });
    const floor = hosts.floor as Host;
    const floorFile = readFileSync(join(floor.root, OWN_FILE), "utf8");
    expect(floorFile).toContain("vm.max_map_count = 262144\n");
    // The image's boot value before: the vendor file's.
    expect(floorFile).toContain("The previous value was 100000.");
    expect(snapshot((hosts["floor-high"] as Host).root)).toEqual(
      before["floor-high"] as Record<string, string>,
    );
    expect(debugMessage(r.stdout, REPORT_TASK, "floor-high")?.[1]).toContain(
      `${(hosts["floor-high"] as Host).root}/${OWN_FILE}: not-needed; at boot 1048576`,
    );

    const alpha = hosts.alpha as Host;
    const bravo = hosts.bravo as Host;
    const charlie = hosts.charlie as Host;
    const alphaFile = readFileSync(join(alpha.root, OWN_FILE), "utf8");
    expect(alphaFile).toStartWith("# Written by vmaudit");
    expect(alphaFile).toContain("vm.max_map_count = 262144\n");
    expect(snapshot(bravo.root)).toEqual(before.bravo as Record<string, string>);
    const charlieFile = readFileSync(join(charlie.root, OWN_FILE), "utf8");
    expect(charlieFile).toContain("vm.max_map_count = 1048576\n");
    // The image's boot value before: its old vmaudit file sorts after 10-map-count.conf.
    expect(charlieFile).toContain("The previous value was 65530.");
    expect(readFileSync(join(charlie.root, "usr/lib/sysctl.d/10-map-count.conf"), "utf8")).toBe(
      "vm.max_map_count = 1048576\n",
    );

    for (const [name, h] of Object.entries(hosts)) {
      // Installed: the same bytes, root's, 0755, and no staged copy left.
      const bin = join(h.binDir, "vmaudit");
      expect(fileSha256(bin)).toBe(sha256);
      const s = statSync(bin);
      expect(s.mode & 0o7777).toBe(0o755);
      expect(s.uid).toBe(0);
      expect(readdirSync(h.binDir)).toEqual(["vmaudit"]);
      // The role passed this host's own root and proc tree.
      const report = debugMessage(r.stdout, REPORT_TASK, name);
      expect(report?.[0]).toBe(
        `${bin} apply ${applyArg(HOSTS[name])} --persist --root ${h.root} --procfs ${h.procfs} --json`,
      );
      expect(report?.[1]).toContain(`live not touched (offline root ${h.root})`);
      // An offline root: neither the fixture's value nor the kernel's moved.
      expect(fixtureLimit(h)).toBe(fixtures[name] as string);
    }
    expect(readLimit()).toBe(originalLimit);
  });

  ansibleTest("the second run reports changed=0 on every host and writes nothing", () => {
    const trees = Object.fromEntries(
      Object.entries(hosts).map(([n, h]) => [n, [snapshot(h.root), snapshot(h.binDir)]]),
    );
    const r = play("second", hostsInventory(hosts), [], 0);
    console.log(`second run:\n${[...parseRecap(r.stdout).values()].map((l) => l.line).join("\n")}`);
    const recap = parseRecap(r.stdout);
    expect(recap.size).toBe(5);
    for (const l of recap.values()) {
      expect(l.changed).toBe(0);
      expect(l.failed).toBe(0);
    }
    expect(Object.fromEntries(taskStatus(r.stdout, APPLY_TASK))).toEqual({
      alpha: "ok",
      bravo: "ok",
      charlie: "ok",
      floor: "ok",
      "floor-high": "ok",
    });
    for (const [n, h] of Object.entries(hosts)) {
      expect([snapshot(h.root), snapshot(h.binDir)]).toEqual(trees[n] as Record<string, string>[]);
    }
    expect(readLimit()).toBe(originalLimit);
  });

  ansibleTest("--check on fresh trees asks vmaudit's dry run and changes no file", () => {
    // Fresh config and proc trees; the binaries installed by the runs above,
    // plus a host where vmaudit is not installed yet.
    const fresh: Record<string, Host> = {};
    for (const [name, setup] of Object.entries(HOSTS)) {
      fresh[name] = makeHost(name, setup, hosts[name]?.binDir);
    }
    fresh.delta = makeHost("delta", { value: 300000, tree: {}, vmas: 10 });
    const all = Object.values(fresh).flatMap((h) => [h.root, h.procfs, h.binDir]);
    const trees = all.map(snapshot);
    const r = play("check", hostsInventory(fresh), ["--check"], 0);
    console.log(
      `--check run:\n${[...parseRecap(r.stdout).values()].map((l) => l.line).join("\n")}`,
    );

    expect(all.map(snapshot)).toEqual(trees);
    expect(readLimit()).toBe(originalLimit);
    // Changed where vmaudit's dry run says it would change.
    expect(Object.fromEntries(taskStatus(r.stdout, APPLY_TASK))).toEqual({
      alpha: "changed",
      bravo: "ok",
      charlie: "changed",
      delta: "skipping",
      floor: "changed",
      "floor-high": "ok",
    });
    expect(parseRecap(r.stdout).get("floor-high")?.changed).toBe(0);
    const floorReport = debugMessage(r.stdout, REPORT_TASK, "floor");
    expect(floorReport?.[0]).toContain(" apply --at-least 262144 --persist ");
    expect(floorReport?.[0]).toEndWith("--json --dry-run");
    expect(floorReport?.[1]).toStartWith("Dry run, would change: vm.max_map_count 262144");
    const recap = parseRecap(r.stdout);
    expect(recap.get("bravo")?.changed).toBe(0);
    // delta would install the binary.
    expect(recap.get("delta")?.changed).toBeGreaterThan(0);
    const alpha = fresh.alpha as Host;
    const report = debugMessage(r.stdout, REPORT_TASK, "alpha");
    expect(report?.[0]).toEndWith("--json --dry-run");
    expect(report?.[1]).toStartWith("Dry run, would change: vm.max_map_count 262144");
    expect(report?.[1]).toContain(`${alpha.root}/${OWN_FILE}: write`);
    expect(r.stdout).toContain(
      `Check mode: ${fresh.delta?.binDir}/vmaudit is not installed yet (or is another build)`,
    );
  });
});

describe("the vmaudit role refuses bad input with a readable message", () => {
  ansibleTest(
    "a wrong checksum fails the play and keeps the installed binary, from a path or a URL",
    () => {
      const wrong = "0".repeat(64);
      const hosts: Record<string, Host> = {
        "bad-path": makeHost("bad-path", { value: 262144, tree: {}, vmas: 10 }),
        "bad-url": makeHost("bad-url", { value: 262144, tree: {}, vmas: 10, url: true }),
      };
      const old = "#!/bin/sh\necho an older vmaudit\n";
      for (const h of Object.values(hosts)) {
        h.vars.vmaudit_sha256 = wrong;
        // An upgrade: the binary installed earlier must stay as it was.
        writeFileSync(join(h.binDir, "vmaudit"), old, { mode: 0o755 });
      }
      const kept = Object.values(hosts).flatMap((h) => [h.root, join(h.binDir, "vmaudit")]);
      const before = kept.map(snapshot);
      for (const args of [[], ["--check"]]) {
        const r = play(`wrong-checksum${args.join("")}`, hostsInventory(hosts), args, 2);
        const recap = parseRecap(r.stdout);
        expect(recap.get("bad-path")?.failed).toBe(1);
        expect(recap.get("bad-path")?.changed).toBe(0);
        // Checked on the controller: nothing was sent.
        expect(fatalMessage(r.stdout, "bad-path")).toBe(
          `Cannot install "${src}": its SHA-256 is ${sha256}, expected vmaudit_sha256 ${wrong}. Nothing was installed`,
        );
        if (args.length === 0) {
          // Checked on the host, before the move.
          expect(recap.get("bad-url")?.failed).toBe(1);
          expect(fatalMessage(r.stdout, "bad-url")).toBe(
            `Cannot install "file://${src}": the copy on this host has the SHA-256 ${sha256}, expected vmaudit_sha256 ${wrong}. Nothing was installed`,
          );
        }
        expect(kept.map(snapshot)).toEqual(before);
        for (const h of Object.values(hosts)) expect(readdirSync(h.binDir)).toEqual(["vmaudit"]);
      }
    },
  );

  ansibleTest("both values, neither, a bad checksum format and vmaudit's own refusals", () => {
    const hosts: Record<string, Host> = {};
    const make = (name: string, vars: Record<string, unknown>, tree: SysctlTree = {}) => {
      const h = makeHost(name, { value: 262144, tree, vmas: 10 });
      Object.assign(h.vars, vars);
      hosts[name] = h;
    };
    make("both", { vmaudit_min: 262144 });
    make("neither", { vmaudit_value: null });
    make("short-sum", { vmaudit_sha256: "abc" });
    make("not-persisted", { vmaudit_persist: false });
    // Elasticsearch's vendor file sorts after 90-vm_max_map_count.conf.
    make(
      "overridden",
      { vmaudit_value: 524288 },
      {
        "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 262144\n",
      },
    );
    const r = play("refusals", hostsInventory(hosts), [], 2);
    const recap = parseRecap(r.stdout);
    for (const [name, l] of recap) expect([name, l.failed]).toEqual([name, 1]);
    expect(recap.size).toBe(5);

    expect(fatalMessage(r.stdout, "both")).toStartWith(
      'Cannot use vmaudit_value "262144" with vmaudit_min "262144": expected exactly one of them',
    );
    expect(fatalMessage(r.stdout, "neither")).toContain("expected exactly one of them");
    expect(fatalMessage(r.stdout, "short-sum")).toBe(
      'Cannot use vmaudit_sha256 "abc": expected 64 hex digits, the SHA-256 of the binary',
    );
    // Refused before the install: nothing on those hosts.
    for (const n of ["both", "neither", "short-sum"]) {
      expect(readdirSync(hosts[n]?.binDir as string)).toEqual([]);
    }
    // vmaudit's own message, exit code included, not a dump of its JSON.
    const np = hosts["not-persisted"] as Host;
    expect(fatalMessage(r.stdout, "not-persisted")).toBe(
      `vmaudit apply failed (exit 2): Cannot use --root "${np.root}" without --persist, --reset or --show-config: a --root other than / is an offline image, which has no live value to set; Run 'vmaudit apply --help' for usage`,
    );
    expect(existsSync(join(np.root, OWN_FILE))).toBe(false);
    const ov = hosts.overridden as Host;
    expect(fatalMessage(r.stdout, "overridden")).toStartWith(
      `vmaudit apply failed (exit 1): Another sysctl config overrides ${ov.root}/${OWN_FILE}: ${ov.root}/usr/lib/sysctl.d/elasticsearch.conf sets vm.max_map_count = 262144 at boot, not 524288; To fix it: rerun with --file`,
    );
    // It did write its file (vmaudit changes, then reports the override).
    expect(taskStatus(r.stdout, APPLY_TASK).get("overridden")).toBe("changed");
    expect(readLimit()).toBe(originalLimit);
  });
});

describe("the vmaudit role on the running system (--root /)", () => {
  ansibleTest("check mode, a real run and a second run set the live value once", () => {
    // The host's sysctl folders show a temp tree in a private mount
    // namespace: the real /etc is never written. The live value is the
    // kernel's; afterAll restores it.
    const tree = makeSysctlRoot({});
    made.push(tree);
    const ns = sysctlNamespace(tree);
    const value = originalLimit === 262144 ? 300000 : 262144;
    const binDir = mkdtempSync(join(work, "bin-live-"));
    const inv = inventory({
      live: { vmaudit_value: value, vmaudit_bin_path: join(binDir, "vmaudit") },
    });
    copyFileSync(src, join(binDir, "vmaudit"));

    const treeBefore = snapshot(tree);
    const check = play("live-check", inv, ["--check"], 0, ns);
    expect(taskStatus(check.stdout, APPLY_TASK).get("live")).toBe("changed");
    expect(debugMessage(check.stdout, REPORT_TASK, "live")?.[1]).toContain(
      `live ${originalLimit} -> ${value}`,
    );
    expect(readLimit()).toBe(originalLimit);
    expect(snapshot(tree)).toEqual(treeBefore);

    const first = play("live-first", inv, [], 0, ns);
    expect(taskStatus(first.stdout, APPLY_TASK).get("live")).toBe("changed");
    expect(readLimit()).toBe(value);
    expect(readFileSync(join(tree, OWN_FILE), "utf8")).toContain(`vm.max_map_count = ${value}\n`);

    const second = play("live-second", inv, [], 0, ns);
    expect(parseRecap(second.stdout).get("live")?.changed).toBe(0);
    expect(debugMessage(second.stdout, REPORT_TASK, "live")?.[1]).toContain(
      `live already ${value}`,
    );
  });
});

describe("lint", () => {
  ansibleTest(
    "ansible-lint passes the role and the playbook offline, and catches a broken copy",
    () => {
      const lint = (dir: string) =>
        Bun.spawnSync(
          [
            "unshare",
            "--net",
            "ansible-lint",
            "--offline",
            "--nocolor",
            "vmaudit.yml",
            "roles/vmaudit",
          ],
          { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" },
        );
      const ok = lint(ANSIBLE_DIR);
      const okOut = ok.stdout.toString() + ok.stderr.toString();
      expect(okOut).toContain("Passed with production profile: 0 failure(s), 0 warning(s)");
      expect(ok.exitCode).toBe(0);

      // The same linter on a copy without changed_when: it really checks.
      const copy = mkdtempSync(join(work, "lint-"));
      Bun.spawnSync(["cp", "-r", `${ANSIBLE_DIR}/.`, copy]);
      const tasks = join(copy, "roles/vmaudit/tasks/apply.yml");
      writeFileSync(tasks, readFileSync(tasks, "utf8").replace(/^ {2}changed_when:.*\n/m, ""));
      const bad = lint(copy);
      expect(bad.stdout.toString() + bad.stderr.toString()).toContain("no-changed-when");
      expect(bad.exitCode).not.toBe(0);
    },
  );

  ansibleTest("ansible-playbook --syntax-check passes every playbook", () => {
    const playbooks = readdirSync(ANSIBLE_DIR).filter((f) => f.endsWith(".yml"));
    expect(playbooks.length).toBeGreaterThan(0);
    for (const p of playbooks) {
      const r = Bun.spawnSync(
        ["unshare", "--net", "ansible-playbook", "--syntax-check", "-i", "localhost,", p],
        { cwd: ANSIBLE_DIR, stdout: "pipe", stderr: "pipe" },
      );
      expect([p, r.exitCode, r.stderr.toString()]).toEqual([p, 0, ""]);
    }
  });
});
