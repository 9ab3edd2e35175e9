/**
 * deploy/ansible/fleet-report.yml through the real ansible-playbook of
 * Debian's ansible-core, with no network (an empty network namespace), on
 * three hosts that all use ansible_connection=local. Each host has its own
 * --root (a config tree: an offline image, so the live vm.max_map_count is
 * never touched) and --procfs (a fixture proc tree with its own host name,
 * limit and processes with different VMA counts), through the role's
 * variables. The fleet's highest peak is on bravo, whose limit is already
 * above the fleet's value; alpha and charlie are below it.
 *
 * Needs root (the role's `vmaudit apply` does). Helpers in
 * test/helpers/ansible.ts (shared with the role's own test).
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recommendLimit } from "../../src/core/recommend.ts";
import {
  ANSIBLE_DIR,
  debugMessage,
  fatalMessage,
  parseRecap,
  removeAnsibleHome,
  runPlaybook,
  stageBinary,
  taskStatus,
} from "../helpers/ansible.ts";
import { IS_ROOT, readLimit, rootTest } from "../helpers/env.ts";
import { makeProcTree, mapsText } from "../helpers/proc_tree.ts";
import { makeSysctlRoot } from "../helpers/sysctl_tree.ts";
import { snapshot } from "../helpers/tree_snapshot.ts";

const PLAYBOOK = join(ANSIBLE_DIR, "fleet-report.yml");
const PRINT_TASK = "Print the fleet recommendation";
const APPLY_TASK = "vmaudit : Run vmaudit apply";
const OWN_FILE = "etc/sysctl.d/90-vm_max_map_count.conf";
const HAVE_ANSIBLE = Bun.which("ansible-playbook") !== null;

/** Each host's own proc tree: its name, its limit and its busiest process. */
const HOSTS = {
  alpha: { hostname: "alpha.example", limit: 65530, app: "alpha-web", vmas: 1200 },
  bravo: { hostname: "bravo.example", limit: 262144, app: "bravo-db", vmas: 90000 },
  charlie: { hostname: "charlie.example", limit: 131072, app: "charlie-cache", vmas: 3000 },
} as const;
type Name = keyof typeof HOSTS;
const NAMES = Object.keys(HOSTS) as Name[];

/** The value the engine gives for the fleet's highest peak: the truth the playbook must print. */
const FLEET_VALUE = recommendLimit({ peak: 90000, headroom: 1.5, round: 10000 }).limit;

let work = "";
let src = "";
let sha256 = "";
let originalLimit = 0;
const made: string[] = [];
const hosts = {} as Record<Name, { root: string; procfs: string; binDir: string }>;
const runs: Record<string, number> = {};

beforeAll(() => {
  if (!IS_ROOT || !HAVE_ANSIBLE) return;
  work = mkdtempSync(join(tmpdir(), "vmaudit-ansible-fleet-"));
  ({ src, sha256 } = stageBinary(work));
  originalLimit = readLimit();
  NAMES.forEach((name, i) => {
    const h = HOSTS[name];
    const root = makeSysctlRoot({});
    const procfs = makeProcTree({
      processes: {
        1: { maps: mapsText(30), cmdline: "init\0", comm: "init" },
        4242: { maps: mapsText(h.vmas), cmdline: `${h.app}\0--serve\0`, comm: h.app },
      },
      maxMapCount: String(h.limit),
      hostname: h.hostname,
      osrelease: "6.1.0-18-amd64",
      bootId: `0000000${i + 1}-0000-4000-8000-000000000000`,
    });
    const binDir = mkdtempSync(join(work, `bin-${name}-`));
    // Installed by an earlier rollout (vmaudit.yml): the fleet scan uses it.
    copyFileSync(src, join(binDir, "vmaudit"));
    made.push(root, procfs);
    hosts[name] = { root, procfs, binDir };
  });
});

afterAll(() => {
  if (!IS_ROOT || !HAVE_ANSIBLE) return;
  for (const dir of [work, ...made]) rmSync(dir, { recursive: true, force: true });
  removeAnsibleHome();
  console.log(
    `fleet-report.yml run times (ms): ${Object.entries(runs)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  expect(readLimit()).toBe(originalLimit);
});

function inventory(): unknown {
  return {
    all: {
      hosts: Object.fromEntries(
        NAMES.map((n) => [
          n,
          {
            vmaudit_root: hosts[n].root,
            vmaudit_procfs: hosts[n].procfs,
            vmaudit_bin_path: join(hosts[n].binDir, "vmaudit"),
          },
        ]),
      ),
      vars: {
        ansible_connection: "local",
        ansible_python_interpreter: "/usr/bin/python3",
        ansible_become: false,
        vmaudit_binary_src: src,
        vmaudit_sha256: sha256,
        vmaudit_fleet_bin: src,
      },
    },
  };
}

function play(name: string, args: string[], code = 0) {
  const r = runPlaybook(inventory(), args, { playbook: PLAYBOOK });
  runs[name] = Math.round(r.ms);
  if (r.code !== code)
    throw new Error(
      `ansible-playbook exited ${r.code}, expected ${code}:\n${r.stdout}\n${r.stderr}`,
    );
  return r;
}

const recapLines = (stdout: string) => [...parseRecap(stdout).values()].map((l) => l.line);
const everything = () => NAMES.flatMap((n) => [hosts[n].root, hosts[n].procfs, hosts[n].binDir]);
const fleetTemps = () => readdirSync(tmpdir()).filter((f) => f.startsWith("vmaudit-fleet-"));

/** rootTest, and a visible failure (not a skip) when root lacks ansible-playbook. */
function ansibleTest(name: string, fn: () => undefined | Promise<unknown>, timeout = 180_000) {
  rootTest(
    name,
    () => {
      if (!HAVE_ANSIBLE)
        throw new Error(
          "ansible-playbook is missing: run scripts/test-deps.sh (Debian ansible-core)",
        );
      return fn();
    },
    timeout,
  );
}

describe("fleet-report.yml on three hosts with their own --root and --procfs", () => {
  ansibleTest(
    "without apply it prints the engine's value for the fleet and changes nothing",
    () => {
      const before = everything().map(snapshot);
      const temps = fleetTemps();
      const r = play("report", []);
      const msg = debugMessage(r.stdout, PRINT_TASK, "alpha");
      console.log(`fleet-report.yml prints:\n${msg?.join("\n")}`);
      expect(msg).toEqual([
        `vm.max_map_count for the fleet: ${FLEET_VALUE} (from the highest peak, 90000 VMAs of pid 4242 (bravo-db) on bravo.example; headroom x1.5, rounded to 10000; 3 of 3 hosts' reports)`,
        `Below ${FLEET_VALUE} today: alpha (65530), charlie (131072)`,
        `Run again with -e apply=true to set ${FLEET_VALUE} with --persist on the hosts below it`,
      ]);
      for (const l of parseRecap(r.stdout).values()) expect([l.changed, l.failed]).toEqual([0, 0]);
      expect(everything().map(snapshot)).toEqual(before);
      // The reports' temp folder on the controller is gone.
      expect(fleetTemps()).toEqual(temps);
    },
  );

  ansibleTest("-e apply=true --check: a dry run on the hosts below, no file changed", () => {
    const before = everything().map(snapshot);
    const r = play("apply-check", ["-e", "apply=true", "--check"]);
    expect(everything().map(snapshot)).toEqual(before);
    expect(Object.fromEntries(taskStatus(r.stdout, APPLY_TASK))).toEqual({
      alpha: "changed",
      charlie: "changed",
    });
    const recap = parseRecap(r.stdout);
    expect(recap.get("bravo")?.changed).toBe(0);
    expect(debugMessage(r.stdout, PRINT_TASK, "alpha")?.[2]).toBe(
      `Applying ${FLEET_VALUE} with --persist on the hosts below it (check mode: a dry run)`,
    );
    expect(readLimit()).toBe(originalLimit);
  });

  ansibleTest(
    "-e apply=true raises only the hosts below it; a second run reports changed=0",
    () => {
      const bravoBefore = snapshot(hosts.bravo.root);
      const first = play("apply-first", ["-e", "apply=true"]);
      console.log(`first -e apply=true run:\n${recapLines(first.stdout).join("\n")}`);
      const recap = parseRecap(first.stdout);
      for (const l of recap.values()) expect(l.failed).toBe(0);
      expect(recap.get("alpha")?.changed).toBeGreaterThan(0);
      expect(recap.get("charlie")?.changed).toBeGreaterThan(0);
      expect(recap.get("bravo")?.changed).toBe(0);
      for (const n of ["alpha", "charlie"] as const) {
        const file = readFileSync(join(hosts[n].root, OWN_FILE), "utf8");
        expect(file).toContain(`vm.max_map_count = ${FLEET_VALUE}\n`);
        // The offline image's boot value before: nothing set it, so the kernel default.
        expect(file).toContain("The previous value was 65530.");
      }
      // bravo is above the fleet's value: never lowered, not even looked at.
      expect(snapshot(hosts.bravo.root)).toEqual(bravoBefore);
      expect(existsSync(join(hosts.bravo.root, OWN_FILE))).toBe(false);
      expect(readLimit()).toBe(originalLimit);

      const trees = everything().map(snapshot);
      const second = play("apply-second", ["-e", "apply=true"]);
      console.log(`second -e apply=true run:\n${recapLines(second.stdout).join("\n")}`);
      for (const l of parseRecap(second.stdout).values())
        expect([l.changed, l.failed]).toEqual([0, 0]);
      expect(Object.fromEntries(taskStatus(second.stdout, APPLY_TASK))).toEqual({
        alpha: "ok",
        charlie: "ok",
      });
      expect(everything().map(snapshot)).toEqual(trees);
    },
  );

  ansibleTest(
    "a host whose vmaudit is missing fails with a message; a bad fleet fails every host",
    () => {
      const missing = join(hosts.alpha.binDir, "vmaudit");
      const saved = join(work, "alpha-vmaudit");
      copyFileSync(missing, saved);
      rmSync(missing);
      try {
        const r = play("missing-binary", [], 2);
        const recap = parseRecap(r.stdout);
        expect(recap.get("alpha")?.failed).toBe(1);
        expect(fatalMessage(r.stdout, "alpha")).toMatch(
          /^vmaudit scan failed \(exit 127\): .*not found; install vmaudit with vmaudit\.yml first$/,
        );
        // The rest are sized without alpha, and the output says so.
        expect(debugMessage(r.stdout, PRINT_TASK, "bravo")?.[0]).toEndWith(
          "2 of 3 hosts' reports)",
        );
      } finally {
        copyFileSync(saved, missing);
      }
      // A controller vmaudit that cannot size the fleet: its message, on every host.
      const bad = join(work, "fleet-fails.sh");
      writeFileSync(bad, "#!/bin/sh\necho 'vmaudit: Cannot size the fleet: test' >&2\nexit 1\n", {
        mode: 0o755,
      });
      const inv = inventory() as { all: { vars: Record<string, unknown> } };
      inv.all.vars.vmaudit_fleet_bin = bad;
      const r = runPlaybook(inv, [], { playbook: PLAYBOOK });
      expect(r.code).toBe(2);
      for (const n of NAMES) {
        expect(fatalMessage(r.stdout, n)).toBe(
          "vmaudit fleet failed (exit 1): Cannot size the fleet: test",
        );
      }
    },
  );
});

describe("lint", () => {
  ansibleTest(
    "ansible-lint passes fleet-report.yml and the role offline; --syntax-check too",
    () => {
      const lint = Bun.spawnSync(
        [
          "unshare",
          "--net",
          "ansible-lint",
          "--offline",
          "--nocolor",
          "fleet-report.yml",
          "roles/vmaudit",
        ],
        {
          cwd: ANSIBLE_DIR,
          env: { ...process.env, NO_COLOR: "1" },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      const out = lint.stdout.toString() + lint.stderr.toString();
      expect(out).toContain("Passed with production profile: 0 failure(s), 0 warning(s)");
      expect(lint.exitCode).toBe(0);
      const syntax = Bun.spawnSync(
        [
          "unshare",
          "--net",
          "ansible-playbook",
          "--syntax-check",
          "-i",
          "localhost,",
          "fleet-report.yml",
        ],
        { cwd: ANSIBLE_DIR, stdout: "pipe", stderr: "pipe" },
      );
      expect([syntax.exitCode, syntax.stderr.toString()]).toEqual([0, ""]);
    },
  );
});
