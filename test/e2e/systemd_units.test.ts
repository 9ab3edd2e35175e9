/**
 * The systemd units in packaging/systemd/ before they are packaged: the README
 * shows them as they are, `systemd-analyze verify` accepts them, the security
 * score is the README's, the command in ExecStart= works, and the capability
 * bounding set is exactly what a full scan needs (proved with setpriv, which
 * limits root's capabilities the way CapabilityBoundingSet= does).
 * The installed units are tested under a real systemd in
 * test/release/deb_install.release.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { installedUnitText, shippedUnits } from "../../scripts/package_meta.ts";
import { parseCommandArgs } from "../../src/cli/parse.ts";
import { EXPORTER_PORT, exporterCommand } from "../../src/commands/exporter.ts";
import { BINARY, binary, REPO, rootTest, runBinary } from "../helpers/env.ts";
import { startExporterProcess } from "../helpers/exporter.ts";
import { parsePromText } from "../helpers/prom_text.ts";

const UNITS = join(REPO, "packaging", "systemd");
const SERVICE = "vmaudit-textfile.service";
const TIMER = "vmaudit-textfile.timer";
const EXPORTER = "vmaudit-exporter.service";
const dir = mkdtempSync(join(tmpdir(), "vmaudit-units-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A unit as the packages install it (the exporter's port filled in). */
const unitText = (name: string) => installedUnitText(name, readFileSync(join(UNITS, name), "utf8"));

/**
 * The unit with ExecStart= pointed at dist/vmaudit: before installation
 * /usr/bin/vmaudit does not exist, and verify checks that it is executable.
 */
const unitWithBuiltBinary = (name: string) =>
  unitText(name).replace(/^ExecStart=\/usr\/bin\/vmaudit /m, `ExecStart=${binary()} `);

/** The values of `key=` in a unit, in order (comments and sections ignored). */
function directive(text: string, key: string): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

function run(cmd: string[], env: Record<string, string> = {}) {
  const p = Bun.spawnSync(cmd, {
    env: { ...process.env, NO_COLOR: "1", SYSTEMD_COLORS: "0", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** A service's ExecStart= as argv. */
const execStart = (unit = SERVICE): string[] =>
  (directive(unitText(unit), "ExecStart")[0] ?? "").split(" ");

describe("README", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  for (const name of [SERVICE, TIMER, EXPORTER]) {
    test(`shows ${name} exactly as the package installs it`, () => {
      const marker = `\`\`\`ini\n# /usr/lib/systemd/system/${name}\n`;
      const at = readme.indexOf(marker);
      expect(at).toBeGreaterThan(-1);
      const body = readme.slice(at + marker.length, readme.indexOf("```", at + marker.length));
      expect(body).toBe(unitText(name));
    });
  }

  for (const name of [SERVICE, EXPORTER])
    test(`reports the score systemd-analyze security gives ${name} now`, () => {
      const file = join(dir, `security-${name}`);
      mkdirSync(file, { recursive: true });
      writeFileSync(join(file, name), unitText(name));
      const r = run([
        "systemd-analyze",
        "security",
        "--offline=yes",
        "--no-pager",
        join(file, name),
      ]);
      const score = /Overall exposure level for \S+: (\d+\.\d+) (\S+)/.exec(r.stdout);
      expect(score).not.toBeNull();
      console.log(`systemd-analyze security ${name}: ${score?.[1]} ${score?.[2]}`);
      expect(readme).toContain(`| \`${name}\` | ${score?.[1]} ${score?.[2]} |`);
    });
});

describe(SERVICE, () => {
  test("systemd-analyze verify accepts it and its timer (ExecStart= pointed at dist/vmaudit)", () => {
    const service = unitWithBuiltBinary(SERVICE);
    expect(service).not.toBe(unitText(SERVICE));
    writeFileSync(join(dir, SERVICE), service);
    writeFileSync(join(dir, TIMER), unitText(TIMER));
    const r = run(["systemd-analyze", "verify", "--man=no", join(dir, SERVICE), join(dir, TIMER)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("may write only the folder of the file it writes", () => {
    const argv = execStart();
    expect(argv[0]).toBe("/usr/bin/vmaudit");
    const file = argv[argv.indexOf("--prometheus") + 1] as string;
    expect(directive(unitText(SERVICE), "ReadWritePaths")).toEqual([`-${dirname(file)}`]);
    expect(directive(unitText(SERVICE), "ProtectSystem")).toEqual(["strict"]);
  });

  rootTest(
    "its ExecStart= command writes a metrics file promtool accepts, mode 0644 under UMask=0077",
    () => {
      const argv = execStart();
      const i = argv.indexOf("--prometheus");
      const out = join(dir, "vmaudit.prom");
      const args = [...argv.slice(1, i + 1), out, ...argv.slice(i + 2)];
      const umask = process.umask(0o077);
      let r: ReturnType<typeof run>;
      try {
        r = run([BINARY, ...args]);
      } finally {
        process.umask(umask);
      }
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe("");
      expect(statSync(out).mode & 0o777).toBe(0o644);
      const check = Bun.spawnSync(["promtool", "check", "metrics"], {
        stdin: readFileSync(out),
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(check.stderr.toString() + check.stdout.toString()).toBe("");
      expect(check.exitCode).toBe(0);
      expect(
        parsePromText(readFileSync(out, "utf8")).some(
          (s) => s.name === "vmaudit_processes_unreadable",
        ),
      ).toBe(true);
    },
  );

  test("every shipped unit is in packaging/systemd, and only the exporter unit has a placeholder", () => {
    for (const u of shippedUnits()) {
      const text = readFileSync(join(UNITS, u.name), "utf8");
      expect([u.name, /^\[Install\]$/m.test(text)]).toEqual([u.name, u.installable]);
      expect([u.name, /@[A-Z_]+@/.test(text.replace(/^#.*$/gm, ""))]).toEqual([
        u.name,
        u.name === EXPORTER,
      ]);
      expect(unitText(u.name)).not.toMatch(/@[A-Z_]+@/);
    }
  });
});

describe("Documentation=man:vmaudit(1)", () => {
  test("every unit names the man page", () => {
    for (const u of shippedUnits())
      expect([u.name, directive(unitText(u.name), "Documentation")]).toEqual([
        u.name,
        ["man:vmaudit(1)"],
      ]);
  });

  test("systemd-analyze verify finds the page dist/vmaudit help --man prints, and fails without it", () => {
    const man = join(dir, "man");
    mkdirSync(join(man, "man1"), { recursive: true });
    const page = runBinary(["help", "--man"]);
    expect(page.code).toBe(0);
    writeFileSync(join(man, "man1", "vmaudit.1"), page.stdout);
    const service = unitWithBuiltBinary(SERVICE);
    const units = join(dir, "documented");
    mkdirSync(units);
    writeFileSync(join(units, SERVICE), service);
    writeFileSync(join(units, TIMER), unitText(TIMER));
    const verify = (manpath: string) =>
      run(["systemd-analyze", "verify", "--man=yes", join(units, SERVICE), join(units, TIMER)], {
        MANPATH: manpath,
      });
    const found = verify(man);
    expect(found.stderr).toBe("");
    expect(found.code).toBe(0);
    // The check is real: without the page, verify says so.
    const missing = verify(join(dir, "no-man"));
    expect(missing.stderr).toContain("Command 'man vmaudit(1)' failed");
    expect(missing.code).not.toBe(0);
  });
});

describe(EXPORTER, () => {
  test("systemd-analyze verify accepts it (ExecStart= pointed at dist/vmaudit)", () => {
    const unit = unitWithBuiltBinary(EXPORTER);
    expect(unit).not.toBe(unitText(EXPORTER));
    const verify = join(dir, "verify-exporter");
    mkdirSync(verify, { recursive: true });
    writeFileSync(join(verify, EXPORTER), unit);
    const r = run(["systemd-analyze", "verify", "--man=no", join(verify, EXPORTER)]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("ExecStart= is the exporter on the loopback address and its port, which is all the unit lets in", () => {
    const argv = execStart(EXPORTER);
    expect(argv.slice(0, 2)).toEqual(["/usr/bin/vmaudit", "exporter"]);
    const parsed = parseCommandArgs(exporterCommand, argv.slice(2));
    expect(parsed.options.listen.text).toBe(`127.0.0.1:${EXPORTER_PORT}`);
    const text = unitText(EXPORTER);
    expect(directive(text, "IPAddressDeny")).toEqual(["any"]);
    expect(directive(text, "IPAddressAllow")).toEqual(["localhost"]);
    expect(directive(text, "DynamicUser")).toEqual(["yes"]);
    expect(directive(text, "AmbientCapabilities")).toEqual(
      directive(text, "CapabilityBoundingSet"),
    );
  });

  rootTest(
    "as the unit runs it (not root, CAP_SYS_PTRACE alone) it reads every process root reads, and leaves out only the slab",
    async () => {
      // A process of another user, closed without the capability.
      const other = Bun.spawn([
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "sleep",
        "60",
      ]);
      const caps =
        directive(unitText(EXPORTER), "CapabilityBoundingSet")[0]
          ?.split(/\s+/)
          .map((c) => c.replace(/^CAP_/, "").toLowerCase()) ?? [];
      expect(caps).toEqual(["sys_ptrace"]);
      const asUnit = (withCaps: string[]) => [
        "setpriv",
        "--reuid=61234",
        "--regid=61234",
        "--clear-groups",
        `--inh-caps=-all${withCaps.map((c) => `,+${c}`).join("")}`,
        `--ambient-caps=-all${withCaps.map((c) => `,+${c}`).join("")}`,
        `--bounding-set=-all${withCaps.map((c) => `,+${c}`).join("")}`,
        "--no-new-privs",
      ];
      const scrape = async (withCaps: string[]) => {
        const exp = await startExporterProcess(binary(), [], { prefix: asUnit(withCaps) });
        try {
          const samples = parsePromText(await (await fetch(`${exp.base}/metrics`)).text());
          return { samples, log: exp.log() };
        } finally {
          expect(await exp.stop()).toBe(0);
        }
      };
      try {
        Bun.sleepSync(100);
        const full = scanWith(undefined);
        const unit = await scrape(caps);
        const none = await scrape([]);
        const unreadable = (s: typeof unit) =>
          s.samples.find((x) => x.name === "vmaudit_processes_unreadable")?.value;
        console.log(
          `exporter as a dynamic user: unreadable ${unreadable(unit)} with CAP_SYS_PTRACE, ${unreadable(none)} without; a root scan ${full.unreadable}`,
        );
        expect(unreadable(unit)).toBe(full.unreadable);
        expect(unreadable(none)).toBeGreaterThan(full.unreadable);
        expect(unit.samples.some((x) => x.name === "vmaudit_kernel_vma_slab_bytes")).toBe(false);
        expect(unit.samples.some((x) => x.name === "vmaudit_map_count_limit")).toBe(true);
        expect(
          unit.log.some((l) =>
            l.endsWith(
              "not root: every process is readable (CAP_SYS_PTRACE), /proc/slabinfo is not, so vmaudit_kernel_vma_slab_bytes is left out",
            ),
          ),
        ).toBe(true);
        expect(none.log.some((l) => l.includes("not root and no CAP_SYS_PTRACE"))).toBe(true);
      } finally {
        other.kill();
      }
    },
    30_000,
  );
});

/** The capabilities of CapabilityBoundingSet=, as setpriv names them. */
function boundingSet(): string[] {
  const values = directive(unitText(SERVICE), "CapabilityBoundingSet");
  expect(values).toHaveLength(1);
  return (values[0] as string)
    .split(/\s+/)
    .filter(Boolean)
    .map((c) => c.replace(/^CAP_/, "").toLowerCase());
}

interface Coverage {
  unreadable: number;
  seen: number;
}

/** `vmaudit scan --json` as root with only `caps` (undefined: all of root's). */
function scanWith(caps: string[] | undefined): Coverage {
  const prefix =
    caps === undefined
      ? []
      : [
          "setpriv",
          "--inh-caps=-all",
          "--ambient-caps=-all",
          `--bounding-set=-all${caps.map((c) => `,+${c}`).join("")}`,
          "--no-new-privs",
        ];
  const r = run([...prefix, BINARY, "scan", "--json", "--top", "1"]);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  return { unreadable: report.coverage.unreadable, seen: report.coverage.seen };
}

describe("CapabilityBoundingSet=", () => {
  rootTest(
    "with only its capabilities, root's scan reads every process a full root scan reads",
    () => {
      binary();
      // A process of another user: without CAP_SYS_PTRACE its maps are closed.
      const other = Bun.spawn([
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "sleep",
        "60",
      ]);
      try {
        Bun.sleepSync(100);
        const caps = boundingSet();
        expect(caps).toEqual(["sys_ptrace"]);
        const full = scanWith(undefined);
        const unit = scanWith(caps);
        const none = scanWith([]);
        console.log(
          `unreadable processes: all of root's capabilities ${full.unreadable}/${full.seen}, ` +
            `the unit's (${caps.join(",")}) ${unit.unreadable}/${unit.seen}, none ${none.unreadable}/${none.seen}`,
        );
        expect(unit.unreadable).toBe(full.unreadable);
        // Without it, at least the other user's process and root's own
        // processes with more capabilities (security/commoncap.c) are closed.
        expect(none.unreadable).toBeGreaterThanOrEqual(full.unreadable + 2);
        // Each capability of the set is needed: leaving any one out loses processes.
        for (const cap of caps) {
          const without = scanWith(caps.filter((c) => c !== cap));
          expect([cap, without.unreadable > full.unreadable]).toEqual([cap, true]);
        }
        // The DAC capabilities do not stand in for it.
        expect(scanWith(["dac_override", "dac_read_search"]).unreadable).toBeGreaterThan(
          full.unreadable,
        );
      } finally {
        other.kill();
      }
    },
    30_000,
  );
});
