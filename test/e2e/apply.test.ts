/**
 * End-to-end: the compiled binary changes the real vm.max_map_count.
 * Run under the shared kernel lock:
 *   flock /tmp/vmaudit-kernel.lock node_modules/.bin/bun test test/e2e/apply.test.ts
 * Config paths go to a temp tree mounted over the sysctl folders in a private
 * mount namespace, so /etc is never touched. The original limit is saved
 * first and restored (and checked) in afterAll.
 */
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../src/cli/command_line.ts";
import { BINARY, IS_ROOT, readLimit, rootTest, runBinary } from "../helpers/env.ts";
import { type Holder, spawnHolder } from "../helpers/holder.ts";
import { makeSysctlRoot, sysctlNamespace } from "../helpers/sysctl_tree.ts";

const LIMIT = "/proc/sys/vm/max_map_count";
let original = 0;
let root = "";

function apply(args: string[], prefix: string[] = []) {
  return runBinary(["apply", ...args], {
    prefix: [...sysctlNamespace(root), ...prefix],
    env: { VMAUDIT_RUN_DIR: join(root, "no-run-dir") },
  });
}

beforeAll(() => {
  if (!IS_ROOT) return;
  original = readLimit();
  root = makeSysctlRoot({});
});

afterAll(() => {
  if (!IS_ROOT) return;
  if (readLimit() !== original) writeFileSync(LIMIT, `${original}\n`);
  rmSync(root, { recursive: true, force: true });
  expect(readLimit()).toBe(original);
});

describe("vmaudit apply (compiled binary, real /proc/sys)", () => {
  rootTest("apply 70000 changes /proc/sys and the read-back matches", () => {
    const r = apply(["70000", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.schemaVersion).toBe(1);
    expect(j.changed).toBe(true);
    expect(j.live).toEqual({ path: LIMIT, previous: original, value: 70000, changed: true });
    expect(readLimit()).toBe(70000);
  });

  rootTest("a second apply 70000 reports unchanged", () => {
    const r = apply(["70000", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).changed).toBe(false);
    const text = apply(["70000"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/already 70000/);
    expect(readLimit()).toBe(70000);
  });

  rootTest("--dry-run changes nothing", () => {
    const r = apply(["80000", "--dry-run", "--persist"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Current value: 70000/);
    expect(r.stdout).toMatch(/New value: +80000/);
    expect(r.stdout).toContain("vm.max_map_count = 80000");
    expect(readLimit()).toBe(70000);
  });
});

describe("every guard exits with its code and leaves /proc/sys unchanged", () => {
  const cases: [string, string[], number, RegExp][] = [
    ["not a number", ["abc"], 2, /Cannot parse VALUE "abc": expected a positive integer/],
    ["negative", ["-5"], 2, /Cannot parse VALUE "-5"/],
    ["hex", ["0x10"], 2, /Cannot parse VALUE "0x10"/],
    ["an exponent", ["1e6"], 2, /Cannot parse VALUE "1e6"/],
    ["a decimal", ["12.5"], 2, /Cannot parse VALUE "12.5"/],
    ["empty", [""], 2, /Cannot parse VALUE ""/],
    ["zero", ["0"], 2, /Cannot use VALUE "0"/],
    ["above INT_MAX", ["2147483648"], 2, /expected at most 2147483647/],
    ["above 1048576", ["1048577"], 2, /Refusing VALUE 1048577: above 1048576.*kernel memory/],
  ];
  for (const [name, args, code, message] of cases) {
    rootTest(`${name} (${JSON.stringify(args[0])}) exits ${code}`, () => {
      const before = readLimit();
      const r = apply(args);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stdout).toBe("");
      expect(readLimit()).toBe(before);
    });
  }

  let holder: Holder | undefined;
  rootTest(
    "below the VMA count of a running process exits 2 and names the process",
    async () => {
      holder = await spawnHolder(5000);
      try {
        const before = readLimit();
        const r = apply(["3000"]);
        expect(r.code).toBe(2);
        const m = /Refusing VALUE 3000: pid (\d+) \((.+)\) has (\d+) VMAs now/.exec(r.stderr);
        expect(m).not.toBeNull();
        // The busiest process is named: ours, or one with even more VMAs.
        expect(Number(m?.[3])).toBeGreaterThanOrEqual(holder.mapped);
        expect(readLimit()).toBe(before);
      } finally {
        await holder.stop();
      }
    },
    30_000,
  );

  rootTest("not root exits 77 with the exact command to rerun", () => {
    const before = readLimit();
    const r = apply(
      ["90000", "--persist"],
      ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    );
    expect(r.code).toBe(77);
    expect(r.stderr).toBe(
      `vmaudit: vmaudit apply needs root: sudo ${shellQuote(BINARY)} apply 90000 --persist\n`,
    );
    expect(readLimit()).toBe(before);
  });

  rootTest(
    "a read-only /proc/sys (a container) exits 1 and says to run it privileged or on the host",
    () => {
      const before = readLimit();
      // A private mount namespace where /proc/sys is read-only, as in a container.
      const r = apply(
        ["90000"],
        [
          "unshare",
          "--mount",
          "sh",
          "-c",
          'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec "$@"',
          "sh",
        ],
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /Cannot write "\/proc\/sys\/vm\/max_map_count" \(EROFS\): \/proc\/sys is read-only here, as in a container\. vm\.max_map_count belongs to the host kernel and is not namespaced: run this in a privileged container or on the host\n$/,
      );
      expect(readLimit()).toBe(before);
    },
  );
});

describe("--root is an offline image: the running kernel is not touched", () => {
  rootTest("apply 90000 --persist --root IMG writes IMG's file and leaves /proc/sys alone", () => {
    const img = makeSysctlRoot({});
    try {
      const before = readLimit();
      const r = runBinary(["apply", "90000", "--persist", "--root", img, "--json"], {
        env: { VMAUDIT_RUN_DIR: join(img, "no-run-dir") },
      });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect([j.live, j.file.path]).toEqual([null, `${img}/etc/sysctl.d/90-vm_max_map_count.conf`]);
      expect(readLimit()).toBe(before);
      const reset = runBinary(["apply", "--reset", "--root", img], {
        env: { VMAUDIT_RUN_DIR: join(img, "no-run-dir") },
      });
      expect(reset.code).toBe(0);
      expect(readLimit()).toBe(before);
    } finally {
      if (readLimit() !== original) writeFileSync(LIMIT, `${original}\n`);
      rmSync(img, { recursive: true, force: true });
    }
  });
});

describe("a full disk after the live write (real /proc/sys)", () => {
  rootTest("the error says the live value is already changed, and how to go back", () => {
    const before = readLimit();
    try {
      // A one-page tmpfs over /etc/sysctl.d, filled up, inside the namespace.
      const r = apply(
        ["70001", "--persist"],
        [
          "sh",
          "-c",
          'mount -t tmpfs -o size=4k tmpfs /etc/sysctl.d && (dd if=/dev/zero of=/etc/sysctl.d/fill bs=4096 count=4 2>/dev/null || true) && exec "$@"',
          "sh",
        ],
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^vmaudit: Cannot write "/etc/sysctl\\.d/90-vm_max_map_count\\.conf": ENOSPC\\. The live value is already changed: vm\\.max_map_count is 70001 now \\(it was ${before}\\), but /etc/sysctl\\.d/90-vm_max_map_count\\.conf was not written\n`,
        ),
      );
      expect(r.stderr).toContain(`sudo vmaudit apply ${before}`);
      expect(readLimit()).toBe(70001);
    } finally {
      writeFileSync(LIMIT, `${before}\n`);
    }
    expect(readLimit()).toBe(before);
  });
});

describe("vmaudit apply --reset (real /proc/sys, empty config root)", () => {
  rootTest("goes back to the kernel default 65530 when no config sets it", () => {
    const r = apply(["--reset", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.value, j.source, j.file.action]).toEqual([65530, "kernel-default", "absent"]);
    expect(readLimit()).toBe(65530);
  });
});
