/**
 * `vmaudit fleet`, pure parts: a scan report checked as the fleet reads it,
 * the fleet report built from reports, its renderings, and the command's
 * argument rules. The value is checked against the engine itself
 * (core/recommend.ts), never against a number written here.
 */
import { describe, expect, test } from "bun:test";
import { fleetRequest } from "../../src/commands/fleet.run.ts";
import { fleetCommand, parseMaxAge } from "../../src/commands/fleet.ts";
import { recommendLimit } from "../../src/core/recommend.ts";
import { buildFleetReport, type FleetSettings } from "../../src/fleet/fleet.ts";
import { type HostReport, NOT_JSON, parseHostReport } from "../../src/fleet/host_report.ts";
import { renderFleetJson, renderFleetText } from "../../src/fleet/render.ts";
import { palette } from "../../src/render/color.ts";
import { codeOf } from "../helpers/exit_code.ts";
import { bootIdOf, type FakeHost, fakeScanJson, generatedFleet } from "../helpers/fleet_reports.ts";
import { parsed } from "../helpers/parse_args.ts";

const NOW = new Date("2025-06-01T12:00:00.000Z");
const SETTINGS: FleetSettings = {
  headroom: 1.5,
  round: 10000,
  vma: undefined,
  maxAgeSeconds: 86400,
};

function hostReport(h: FakeHost, source = `${h.host}.json`): HostReport {
  const r = parseHostReport(fakeScanJson({ generatedAt: NOW, ...h }), source);
  if (!r.ok) throw new Error(r.reason);
  return r.report;
}

const proc = (pid: number, app: string, vmas: number) => ({ pid, argv: [app], vmas });

/** Three hosts that differ: the peak is on db-2, whose limit is already high. */
const THREE: FakeHost[] = [
  { host: "web-1", bootId: bootIdOf(1), limit: 65530, processes: [proc(10, "nginx", 1200)] },
  {
    host: "db-2",
    bootId: bootIdOf(2),
    limit: 262144,
    processes: [proc(4242, "java", 90000), proc(11, "nginx", 800)],
  },
  { host: "web-3", bootId: bootIdOf(3), limit: 131072, processes: [proc(12, "nginx", 300)] },
];

describe("parseHostReport() reads what scan --json writes", () => {
  test("a scan report gives the fields the fleet needs", () => {
    const r = parseHostReport(
      fakeScanJson({ ...(THREE[1] as FakeHost), generatedAt: NOW, vma: 5000 }),
      "db-2.json",
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.report).toEqual({
      source: "db-2.json",
      generatedAt: NOW.toISOString(),
      generatedMs: NOW.getTime(),
      host: "db-2",
      kernelRelease: "6.1.0-18-amd64",
      bootId: bootIdOf(2),
      maxMapCount: 262144,
      busiest: { pid: 4242, app: "java", vmas: 90000 },
      applications: [
        { name: "java", kind: "plain", instances: 1, max: 90000, total: 90000 },
        { name: "nginx", kind: "plain", instances: 1, max: 800, total: 800 },
      ],
      peaks: [
        { basis: "top-process", pid: 4242, app: "java", peak: 90000 },
        { basis: "expected-peak", pid: null, app: null, peak: 5000 },
      ],
      objsize: 192,
    });
  });

  test("fields it does not know are fine, and so is a basis it does not know", () => {
    const o = JSON.parse(fakeScanJson({ ...(THREE[0] as FakeHost), generatedAt: NOW }));
    o.someFutureField = { nested: [1, 2] };
    o.topProcesses[0].cgroup = "/system.slice/x";
    o.recommendations.push({ basis: "future-basis", pid: null, app: null, peak: 9_999_999 });
    const r = parseHostReport(JSON.stringify(o), "x.json");
    expect(r.ok && r.report.peaks.map((p) => p.basis)).toEqual(["top-process"]);
  });

  test("null host, release, boot id and limit are allowed: a scan that could not read them", () => {
    const r = parseHostReport(
      fakeScanJson({ host: null, bootId: null, kernelRelease: null, limit: null, processes: [] }),
      "x.json",
    );
    expect(
      r.ok && [r.report.host, r.report.bootId, r.report.maxMapCount, r.report.busiest],
    ).toEqual([null, null, null, null]);
  });

  const good = () => JSON.parse(fakeScanJson({ ...(THREE[1] as FakeHost), generatedAt: NOW }));
  const bad: [string, (o: Record<string, unknown>) => unknown, string][] = [
    ["not JSON", () => "{", NOT_JSON],
    [
      "a list",
      () => [],
      "it is not a vmaudit scan report (expected the output of 'vmaudit scan --json')",
    ],
    [
      "a peaks file",
      () => ({ kind: "vmaudit-peaks", schemaVersion: 1, applications: [] }),
      "it is a vmaudit peaks file (watch --save), not a scan report",
    ],
    [
      "a fleet report",
      () => ({ kind: "vmaudit-fleet", schemaVersion: 1 }),
      "it is a vmaudit fleet report, not a scan report",
    ],
    [
      "an apply report",
      () => ({ schemaVersion: 1, action: "apply", changed: false }),
      "it is not a vmaudit scan report (expected the output of 'vmaudit scan --json')",
    ],
    [
      "schema 2",
      (o) => ({ ...o, schemaVersion: 2 }),
      "schemaVersion 2 is not supported (expected 1)",
    ],
    [
      "no host field (an older vmaudit)",
      (o) => {
        delete o.host;
        return o;
      },
      'it has no "host": it comes from a vmaudit that did not record its host yet; scan again with this version',
    ],
    [
      "a limit that is text",
      (o) => ({ ...o, maxMapCount: "abc" }),
      '"maxMapCount" is "abc", expected a whole number from 0 to 2147483647, so the report is corrupt',
    ],
    [
      "a limit above INT_MAX",
      (o) => ({ ...o, maxMapCount: 2 ** 31 }),
      '"maxMapCount" is 2147483648, expected a whole number from 0 to 2147483647, so the report is corrupt',
    ],
    [
      "a host that is a number",
      (o) => ({ ...o, host: 7 }),
      '"host" is 7, expected a string, so the report is corrupt',
    ],
    [
      "a date that is not one",
      (o) => ({ ...o, generatedAt: "yesterday" }),
      '"generatedAt" is "yesterday", expected an ISO date and time, so the report is corrupt',
    ],
    [
      "a negative pid",
      (o) => {
        (o.topProcesses as Record<string, unknown>[])[0] = { pid: -1, app: "x", vmas: 1 };
        return o;
      },
      '"topProcesses[0].pid" is -1, expected a whole number from 1 to 4194304, so the report is corrupt',
    ],
    [
      "VMAs of 1e300",
      (o) => {
        (o.topProcesses as Record<string, unknown>[])[0] = { pid: 1, app: "x", vmas: 1e300 };
        return o;
      },
      '"topProcesses[0].vmas" is 1e+300, expected a whole number from 0 to 2147483648, so the report is corrupt',
    ],
    [
      "applications that are not a list",
      (o) => ({ ...o, applications: {} }),
      '"applications" is {}, expected a list, so the report is corrupt',
    ],
    [
      "an application without a name",
      (o) => {
        (o.applications as Record<string, unknown>[])[1] = { kind: "plain" };
        return o;
      },
      '"applications[1].name" is missing, so the report is corrupt',
    ],
    [
      "a peak of 0",
      (o) => {
        (o.recommendations as Record<string, unknown>[])[0] = {
          basis: "top-process",
          pid: 1,
          app: "x",
          peak: 0,
        };
        return o;
      },
      '"recommendations[0].peak" is 0, expected a whole number from 1 to 2147483648, so the report is corrupt',
    ],
    [
      "a slab that is text",
      (o) => ({ ...o, kernel: { vmaSlab: "x" } }),
      '"kernel.vmaSlab" is "x", expected an object or null, so the report is corrupt',
    ],
    [
      "a long hostile value, shortened",
      (o) => ({ ...o, bootId: ["\x1b]0;x\x07".repeat(20)] }),
      '"bootId" is ["\\u001b]0;x\\u0007\\u001b]0;x\\u0007\\u0..., expected a string, so the report is corrupt',
    ],
  ];
  for (const [name, mutate, reason] of bad) {
    test(`refuses ${name}`, () => {
      const v = mutate(good());
      const r = parseHostReport(typeof v === "string" ? v : JSON.stringify(v), "x.json");
      expect(r.ok ? "accepted" : r.reason).toBe(reason);
    });
  }
});

describe("buildFleetReport()", () => {
  const three = () => THREE.map((h) => hostReport(h));

  test("the fleet value is the engine's on the highest peak, and the hosts below it are named", () => {
    const f = buildFleetReport(three(), [], SETTINGS, NOW);
    const engine = recommendLimit({ peak: 90000, headroom: 1.5, round: 10000 });
    expect(f.recommendedLimit).toBe(engine.limit);
    const row = f.recommendations[0];
    expect([row?.host, row?.source, row?.pid, row?.app, row?.peak, row?.basis]).toEqual([
      "db-2",
      "db-2.json",
      4242,
      "java",
      90000,
      "top-process",
    ]);
    expect(row?.recommendation).toEqual(engine);
    // "current" is the lowest limit in the fleet.
    expect(f.lowestLimit).toEqual({ host: "web-1", source: "web-1.json", maxMapCount: 65530 });
    expect(row?.current?.limit).toBe(65530);
    // db-2 is at 262144, above the value: it is not lowered.
    expect(f.below).toEqual([
      { host: "web-1", source: "web-1.json", maxMapCount: 65530 },
      { host: "web-3", source: "web-3.json", maxMapCount: 131072 },
    ]);
    expect(f.hosts.map((h) => [h.host, h.belowFleet])).toEqual([
      ["db-2", false],
      ["web-1", true],
      ["web-3", true],
    ]);
    expect(f.warnings).toEqual([]);
  });

  test("each host gets its limit, busiest process, usage and its own recommendation", () => {
    const f = buildFleetReport(three(), [], { ...SETTINGS, headroom: 2, round: 1 }, NOW);
    const web1 = f.hosts.find((h) => h.host === "web-1");
    expect(web1?.maxMapCount).toBe(65530);
    expect(web1?.busiest).toEqual({ pid: 10, app: "nginx", vmas: 1200 });
    expect(web1?.usagePercent).toBe(Math.round((1200 / 65530) * 1e5) / 1e3);
    expect(web1?.recommendation?.recommendation).toEqual(
      recommendLimit({ peak: 1200, headroom: 2, round: 1 }),
    );
    expect(web1?.recommendation?.current?.limit).toBe(65530);
    expect(f.recommendedLimit).toBe(recommendLimit({ peak: 90000, headroom: 2, round: 1 }).limit);
  });

  test("applications across the fleet: hosts, instances, max (and where), mean per process", () => {
    const f = buildFleetReport(three(), [], SETTINGS, NOW);
    expect(f.applications).toEqual([
      {
        name: "java",
        kind: "plain",
        hosts: 1,
        instances: 1,
        max: 90000,
        maxHost: "db-2",
        maxSource: "db-2.json",
        mean: 90000,
      },
      {
        name: "nginx",
        kind: "plain",
        hosts: 3,
        instances: 3,
        max: 1200,
        maxHost: "web-1",
        maxSource: "web-1.json",
        mean: Math.round((1200 + 800 + 300) / 3),
      },
    ]);
  });

  test("two reports of the same boot: the newer is used, and the report says so", () => {
    const older = hostReport(
      {
        ...(THREE[0] as FakeHost),
        generatedAt: new Date(NOW.getTime() - 3600_000),
        processes: [proc(10, "nginx", 99_000)],
      },
      "old/web-1.json",
    );
    const newer = hostReport(THREE[0] as FakeHost, "new/web-1.json");
    const f = buildFleetReport([older, newer], [], SETTINGS, NOW);
    expect(f.hosts.map((h) => h.source)).toEqual(["new/web-1.json"]);
    expect(f.reports.duplicates).toEqual([
      {
        source: "old/web-1.json",
        usedSource: "new/web-1.json",
        host: "web-1",
        bootId: bootIdOf(1),
      },
    ]);
    expect(f.reports).toMatchObject({ read: 2, used: 1 });
    // The older report's peak is not the fleet's.
    expect(f.recommendations[0]?.peak).toBe(1200);
    expect(f.warnings).toEqual([
      `"old/web-1.json" and "new/web-1.json" come from the same boot of web-1 (boot id ${bootIdOf(1)}): using the newer, "new/web-1.json"`,
    ]);
  });

  test("one name with two boot ids is counted twice, with a warning", () => {
    const a = hostReport({ ...(THREE[0] as FakeHost), bootId: bootIdOf(8) }, "a.json");
    const b = hostReport({ ...(THREE[0] as FakeHost), bootId: bootIdOf(9) }, "b.json");
    const f = buildFleetReport([a, b], [], SETTINGS, NOW);
    expect(f.hosts.length).toBe(2);
    expect(f.warnings).toEqual([
      '2 reports name the host "web-1" with different boot ids (a reboot between the scans, or machines that share a name): each is counted as a host',
    ]);
  });

  test("a report older than --max-age is used and flagged stale", () => {
    const old = hostReport({
      ...(THREE[2] as FakeHost),
      generatedAt: new Date(NOW.getTime() - 3 * 86400_000),
    });
    const f = buildFleetReport([hostReport(THREE[0] as FakeHost), old], [], SETTINGS, NOW);
    expect(f.reports.stale).toEqual(["web-3.json"]);
    expect(f.hosts.find((h) => h.host === "web-3")?.stale).toBe(true);
    expect(f.warnings).toEqual([
      `web-3 ("web-3.json") is stale: scanned at ${old.generatedAt}, 3 days ago, more than --max-age 1d`,
    ]);
    const lenient = buildFleetReport([old], [], { ...SETTINGS, maxAgeSeconds: 7 * 86400 }, NOW);
    expect(lenient.reports.stale).toEqual([]);
  });

  test("a host's --vma or --peaks peak above its busiest process is its peak", () => {
    const planned = hostReport({ ...(THREE[0] as FakeHost), vma: 200_000 });
    const f = buildFleetReport([planned, hostReport(THREE[1] as FakeHost)], [], SETTINGS, NOW);
    expect(f.recommendations[0]).toMatchObject({
      host: "web-1",
      basis: "expected-peak",
      peak: 200_000,
    });
    expect(f.recommendedLimit).toBe(
      recommendLimit({ peak: 200_000, headroom: 1.5, round: 10000 }).limit,
    );
  });

  test("--vma adds a row; recommendedLimit is the highest; a limit above 1048576 warns", () => {
    const f = buildFleetReport(three(), [], { ...SETTINGS, vma: 800_000 }, NOW);
    expect(f.recommendations.map((r) => [r.basis, r.host, r.recommendation.limit])).toEqual([
      ["top-process", "db-2", recommendLimit({ peak: 90000, headroom: 1.5, round: 10000 }).limit],
      ["expected-peak", null, recommendLimit({ peak: 800_000, headroom: 1.5, round: 10000 }).limit],
    ]);
    expect(f.recommendedLimit).toBe(1_200_000);
    expect(f.below.length).toBe(3);
    expect(f.warnings).toEqual([
      "The recommended 1200000 is above 1048576: it lets one process pin up to 219.7 MiB of unswappable kernel memory (1200000 x 192 bytes), which the OOM killer does not see: a denial-of-service risk",
    ]);
  });

  test("the ELF margin: a value that rounds into 65531..65535 becomes 65536", () => {
    const h = hostReport({ host: "x", bootId: bootIdOf(5), processes: [proc(1, "a", 43688)] });
    const f = buildFleetReport([h], [], { ...SETTINGS, round: 1 }, NOW);
    expect(f.recommendedLimit).toBe(65536);
    expect(f.recommendations[0]?.recommendation.reason).toBe("reserved-range");
  });

  test("hosts without a limit, without a name or without processes", () => {
    const noLimit = hostReport({
      host: "blind",
      bootId: bootIdOf(6),
      limit: null,
      processes: [proc(1, "a", 10)],
    });
    const noName = hostReport(
      { host: null, bootId: null, processes: [proc(1, "a", 20)] },
      "nameless.json",
    );
    const idle = hostReport({ host: "idle", bootId: bootIdOf(7), processes: [] });
    const f = buildFleetReport([noLimit, noName, idle], [], SETTINGS, NOW);
    expect(f.unknownLimit).toEqual([{ host: "blind", source: "blind.json" }]);
    expect(f.hosts.find((h) => h.host === "blind")?.belowFleet).toBeNull();
    expect(f.hosts.find((h) => h.host === "idle")?.recommendation).toBeNull();
    expect(f.recommendations[0]).toMatchObject({ host: null, source: "nameless.json", peak: 20 });
    expect(f.warnings).toEqual([
      'The limit of 1 host is unknown (the scan could not read vm.max_map_count): blind ("blind.json")',
    ]);
  });

  test("skipped reports are listed and warned about", () => {
    const f = buildFleetReport(three(), [{ source: "bad.json", reason: NOT_JSON }], SETTINGS, NOW);
    expect(f.reports).toMatchObject({
      read: 4,
      used: 3,
      skipped: [{ source: "bad.json", reason: NOT_JSON }],
    });
    expect(f.warnings).toEqual([`Skipped "bad.json": ${NOT_JSON}`]);
  });

  test("1,000 generated hosts: the peak host decides, and the hosts below are all found", () => {
    const hosts = generatedFleet(1000, 150_000, NOW).map((h) => hostReport(h));
    const started = performance.now();
    const f = buildFleetReport(hosts, [], SETTINGS, NOW);
    console.log(
      `buildFleetReport over 1,000 reports: ${(performance.now() - started).toFixed(1)} ms`,
    );
    expect(f.hosts.length).toBe(1000);
    expect(f.recommendations[0]?.host).toBe("host-1000");
    expect(f.recommendedLimit).toBe(
      recommendLimit({ peak: 150_000, headroom: 1.5, round: 10000 }).limit,
    );
    const below = hosts.filter((h) => (h.maxMapCount as number) < (f.recommendedLimit as number));
    expect(below.length).toBeGreaterThan(300);
    expect(f.below.map((b) => b.source).sort()).toEqual(below.map((h) => h.source).sort());
    expect(f.applications.find((a) => a.name === "java")?.hosts).toBe(1000);
  });
});

describe("rendering", () => {
  const hostile = "evil\x1b]0;PWNED\x07\x9b31mhost";
  const app = "/opt/\x1b[2J\x1b[Hwipe";
  const f = buildFleetReport(
    [
      hostReport(
        { host: hostile, bootId: bootIdOf(11), limit: 65530, processes: [proc(7, app, 70000)] },
        "r\x1b[1m.json",
      ),
      hostReport(THREE[0] as FakeHost),
    ],
    [{ source: "x\x07.json", reason: NOT_JSON }],
    SETTINGS,
    NOW,
  );

  test("text shows hostile host, app and file names escaped", () => {
    const text = renderFleetText(f, palette(false));
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for them
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(text).toContain("evil\\x1b]0;PWNED\\x07\\x9b31mhost");
    expect(text).toContain("\\x1b[2J\\x1b[Hwipe");
    expect(text).toContain('Warning: Skipped "x\\x07.json"');
    expect(text).toContain(
      "For the fleet's highest peak, pid 7 (/opt/\\x1b[2J\\x1b[Hwipe) on evil\\x1b]0;PWNED\\x07\\x9b31mhost at 70000 VMAs:",
    );
    expect(text).toContain(`Below ${f.recommendedLimit} today: 2 of 2 hosts:`);
  });

  test("JSON carries them exactly", () => {
    const json = JSON.parse(renderFleetJson(f));
    expect(json.kind).toBe("vmaudit-fleet");
    expect(json.schemaVersion).toBe(1);
    expect(json.recommendedLimit).toBe(f.recommendedLimit);
    expect(json.hosts[0].host).toBe(hostile);
    expect(json.hosts[0].source).toBe("r\x1b[1m.json");
    expect(json.applications[0].name).toBe(app);
    expect(json.reports.skipped[0].source).toBe("x\x07.json");
  });
});

describe("the command's arguments", () => {
  test("defaults, and the shared --headroom, --round and --vma", () => {
    expect(fleetRequest(parsed(fleetCommand, {}, ["r/"]), {})).toEqual({
      args: ["r/"],
      env: {},
      headroom: 1.5,
      round: 10000,
      vma: undefined,
      maxAgeSeconds: 86400,
      skipBad: false,
    });
    const o = fleetRequest(
      parsed(
        fleetCommand,
        { headroom: "2", round: "1", vma: "5000", "max-age": "12h", "skip-bad": true },
        ["-", "a.json"],
      ),
      {},
    );
    expect(o).toMatchObject({
      headroom: 2,
      round: 1,
      vma: 5000,
      maxAgeSeconds: 43200,
      skipBad: true,
      args: ["-", "a.json"],
    });
  });

  test("no REPORT, or - twice, is a usage error (2)", () => {
    expect(codeOf(() => fleetRequest(parsed(fleetCommand, {}, []), {}))).toBe(2);
    expect(codeOf(() => fleetRequest(parsed(fleetCommand, {}, ["-", "-"]), {}))).toBe(2);
    expect(codeOf(() => parsed(fleetCommand, { headroom: "1.1" }, ["r"]))).toBe(2);
  });

  const ages: [string, number | undefined][] = [
    ["1d", 86400],
    ["90m", 5400],
    ["12h", 43200],
    ["45s", 45],
    ["600", 600],
    ["0", undefined],
    ["1.5h", undefined],
    ["-1d", undefined],
    ["1w", undefined],
    ["", undefined],
    ["3661d", undefined],
  ];
  for (const [raw, seconds] of ages)
    test(`--max-age "${raw}" is ${seconds === undefined ? "a usage error" : `${seconds} s`}`, () => {
      const at = { name: "--max-age", command: "fleet" };
      if (seconds === undefined) expect(codeOf(() => parseMaxAge(raw, at))).toBe(2);
      else expect(parseMaxAge(raw, at)).toBe(seconds);
    });
});
