/**
 * The pure parts of `vmaudit stress`: flags, checkpoints, the kernel's
 * refusal rule, the apply suggestion, exit codes, the worker protocol.
 */
import { describe, expect, test } from "bun:test";
import { stressRequest } from "../../src/commands/stress.run.ts";
import { parseCheckpointPercents, stressCommand } from "../../src/commands/stress.ts";
import { palette } from "../../src/render/color.ts";
import {
  checkpointCounts,
  judgeLimit,
  STRESS_FORCE_THRESHOLD,
  stressExitCode,
  suggestApply,
} from "../../src/stress/plan.ts";
import { renderProgress, renderStressJson, renderStressText } from "../../src/stress/render.ts";
import type { StressReport } from "../../src/stress/report.ts";
import {
  formatMessage,
  MessageEncoder,
  parseMessage,
  parseWorkerArgs,
  type WorkerMessage,
  type WorkerPlan,
  workerArgs,
} from "../../stress/contract.ts";
import { codeOf } from "../helpers/exit_code.ts";
import { argvOf, type FlagValues, parsed } from "../helpers/parse_args.ts";

/** What `vmaudit stress` makes of its flags: the typed options as stress options. */
function parseStressOptions(values: FlagValues) {
  return stressRequest(parsed(stressCommand, values).options);
}

/** What the worker makes of its arguments, from the flags the harness writes. */
function parseWorkerPlan(values: FlagValues) {
  return parseWorkerArgs(argvOf(values));
}

describe("stress's flags (parseCommandArgs, then stressRequest())", () => {
  const cases: [Record<string, string | boolean>, number | undefined][] = [
    [{}, 2],
    [{ target: "0" }, 2],
    [{ target: "1" }, undefined],
    [{ target: "abc" }, 2],
    [{ target: "-5" }, 2],
    [{ target: "1e6" }, 2],
    [{ target: "2147483647" }, undefined],
    [{ target: "2147483648" }, 2],
    [{ target: "100", limit: "0" }, 2],
    [{ target: "100", limit: "2147483647" }, undefined],
    [{ target: "100", limit: "2147483648" }, 2],
    [{ target: "100", repeat: "0" }, 2],
    [{ target: "100", repeat: "1000" }, undefined],
    [{ target: "100", repeat: "1001" }, 2],
    [{ target: "100", checkpoints: "0" }, 2],
    [{ target: "100", checkpoints: "101" }, 2],
    [{ target: "100", checkpoints: "100" }, undefined],
    [{ target: "100", checkpoints: "x" }, 2],
    [{ target: "100", "time-limit": "0" }, 2],
  ];
  for (const [values, code] of cases) {
    test(`${JSON.stringify(values)} is ${code === undefined ? "accepted" : `exit ${code}`}`, () => {
      expect(codeOf(() => parseStressOptions(values))).toBe(code);
    });
  }
  test("defaults: checkpoints 10,25,50,100, repeat 5, limit check on", () => {
    const o = parseStressOptions({ target: "20000" });
    expect(o).toMatchObject({
      target: 20000,
      limit: undefined,
      checkpointPercents: [10, 25, 50, 100],
      repeat: 5,
      limitCheck: true,
      force: false,
      json: false,
    });
  });
  test("--no-limit-check, --force and --json are read", () => {
    const o = parseStressOptions({ target: "5", "no-limit-check": true, force: true, json: true });
    expect([o.limitCheck, o.force, o.json]).toEqual([false, true, true]);
  });
  test("the force threshold is 2,000,000", () => expect(STRESS_FORCE_THRESHOLD).toBe(2_000_000));
});

describe("parseCheckpointPercents()", () => {
  const cases: [string, number[]][] = [
    ["10,25,50,100", [10, 25, 50, 100]],
    ["50,10", [10, 50, 100]],
    ["10%,20%", [10, 20, 100]],
    ["100", [100]],
    ["0.5,50,50", [0.5, 50, 100]],
  ];
  for (const [raw, want] of cases) {
    test(`"${raw}" is ${want.join(",")}`, () => expect(parseCheckpointPercents(raw)).toEqual(want));
  }
});

describe("checkpointCounts()", () => {
  const cases: [number, number[], number[]][] = [
    [20000, [10, 25, 50, 100], [2000, 5000, 10000, 20000]],
    [3, [10, 25, 50, 100], [1, 2, 3]],
    [1, [10, 100], [1]],
    [1000, [0.05, 100], [1, 1000]],
    [999, [50, 100], [500, 999]],
  ];
  for (const [target, percents, want] of cases) {
    test(`target ${target} at ${percents.join(",")}% pauses at ${want.join(",")}`, () => {
      expect(checkpointCounts(target, percents)).toEqual(want);
    });
  }
});

describe("judgeLimit(): mmap may reach limit + 1 VMAs", () => {
  const cases: [number, number, number, number, boolean][] = [
    // limit, baseline, created, errno, honored
    [30000, 61, 29940, 12, true], // 61 + 29940 = 30001 = limit + 1
    [30000, 61, 29939, 12, false], // refused one early (strict rule)
    [30000, 61, 29941, 12, false], // one too many
    [65530, 59, 65472, 12, true],
    [65530, 59, 65472, 1, false], // refused, but not with ENOMEM
  ];
  for (const [limit, baseline, created, errno, honored] of cases) {
    test(`limit ${limit}, ${baseline} + ${created} VMAs, errno ${errno}: ${honored ? "honored" : "NOT honored"}`, () => {
      const v = judgeLimit({ limit, baseline, created, errno });
      expect(v.honored).toBe(honored);
      expect(v.expectedPeak).toBe(limit + 1);
      expect(v.observedPeak).toBe(baseline + created);
      expect(v.expectedCreated).toBe(limit + 1 - baseline);
    });
  }
});

describe("suggestApply(): the recommendation for peak N", () => {
  const cases: [number, number, number][] = [
    [100000, 61, 160000], // 100061 x 1.5 = 150092 -> 160000
    [20000, 61, 65530], // fits the default
    [43600, 60, 65530], // 43660 x 1.5 = 65490: still the default
    [43700, 60, 70000], // 43760 x 1.5 = 65640: rounded up
  ];
  for (const [target, baseline, limit] of cases) {
    test(`target ${target} over a baseline of ${baseline} suggests apply ${limit}`, () => {
      const s = suggestApply(target, baseline);
      expect(s.peak).toBe(target + baseline);
      expect(s.recommendation.limit).toBe(limit);
      expect(s.command).toBe(`sudo vmaudit apply ${limit}`);
    });
  }
});

describe("stressExitCode()", () => {
  const cases: [boolean | null, boolean, boolean, boolean, number][] = [
    [true, true, true, false, 0],
    [null, true, true, false, 0],
    [false, true, true, false, 1],
    [true, false, true, false, 1],
    [true, true, false, false, 1], // target unreachable under the current limit
    [true, true, false, true, 0], // --limit below the target: the limit was the point
    [false, true, false, true, 1],
  ];
  for (const [honored, allExact, targetReached, limitGiven, code] of cases) {
    test(`honored ${honored}, exact ${allExact}, reached ${targetReached}, --limit ${limitGiven}: exit ${code}`, () => {
      expect(stressExitCode({ honored, allExact, targetReached, limitGiven })).toBe(code);
    });
  }
});

describe("worker protocol", () => {
  const messages: WorkerMessage[] = [
    { kind: "baseline", vmas: 61 },
    { kind: "progress", created: 200 },
    { kind: "checkpoint", created: 2000, mappingUs: 7500 },
    { kind: "refused", created: 29940, errno: 12, released: 256, mappingUs: 99125 },
    { kind: "done", created: 20000, mappingUs: 0 },
    { kind: "error", text: "Cannot read /proc/self/maps: denied" },
  ];
  for (const m of messages) {
    test(`a ${m.kind} message survives a round trip`, () => {
      const line = formatMessage(m);
      expect(line.endsWith("\n")).toBe(true);
      expect(parseMessage(line.slice(0, -1))).toEqual(m);
    });
  }
  for (const m of messages) {
    if (m.kind === "error") continue;
    test(`MessageEncoder writes a ${m.kind} line byte for byte as formatMessage does`, () => {
      const e = new MessageEncoder();
      const nums = Object.entries(m)
        .filter(([k]) => k !== "kind")
        .map(([, v]) => v as number);
      const len = e.encode(m.kind, ...(nums as [number]));
      expect(e.line().toString()).toBe(formatMessage(m));
      expect(len).toBe(formatMessage(m).length);
    });
  }
  test("MessageEncoder reuses one buffer", () => {
    const e = new MessageEncoder();
    e.encode("refused", 1234567, 12, 256, 9);
    e.encode("progress", 10);
    expect(e.line().toString()).toBe("progress 10\n");
  });
  for (const bad of [
    "",
    "hello",
    "progress",
    "progress x",
    "progress -1",
    "progress 1.5",
    "checkpoint 1",
    "refused 1 2 3",
  ]) {
    test(`"${bad}" is not a message`, () => expect(parseMessage(bad)).toBeUndefined());
  }
});

describe("parseWorkerArgs() reads what the harness writes", () => {
  test("reads absolute checkpoints, the limit check and the parent", () => {
    expect(
      parseWorkerPlan({
        target: "100",
        checkpoints: "10,50,100",
        "limit-check": true,
        "time-limit": "30",
        parent: "42",
      }),
    ).toEqual({
      target: 100,
      checkpoints: [10, 50, 100],
      limitCheck: true,
      timeLimitSeconds: 30,
      parentPid: 42,
    });
  });
  const bad: Record<string, string>[] = [
    { target: "100", checkpoints: "50,10,100" },
    { target: "100", checkpoints: "10,50" },
    { target: "100", checkpoints: "10,200" },
    { target: "0" },
  ];
  for (const values of bad) {
    test(`${JSON.stringify(values)} is a usage error`, () => {
      expect(codeOf(() => parseWorkerPlan(values))).toBe(2);
    });
  }
  const plans: WorkerPlan[] = [
    { target: 1, checkpoints: [1], limitCheck: false, timeLimitSeconds: 1, parentPid: undefined },
    {
      target: 100,
      checkpoints: [10, 50, 100],
      limitCheck: true,
      timeLimitSeconds: 30,
      parentPid: 42,
    },
    {
      target: 2_147_483_647,
      checkpoints: [2_147_483_647],
      limitCheck: true,
      timeLimitSeconds: 86_400,
      parentPid: 4_194_304,
    },
  ];
  for (const plan of plans) {
    test(`workerArgs() and parseWorkerArgs() round-trip target ${plan.target}`, () => {
      expect(parseWorkerArgs(workerArgs(plan))).toEqual(plan);
    });
  }
  test("an unknown flag is a usage error", () => {
    expect(codeOf(() => parseWorkerArgs(["--target", "5", "--nope"]))).toBe(2);
  });
});

describe("rendering", () => {
  test("renderProgress() draws a bar, the percent and the counts", () => {
    expect(renderProgress(5000, 20000, 20)).toBe(
      "mapping [#####               ]  25%  5000/20000 VMAs",
    );
    expect(renderProgress(20000, 20000, 4)).toBe("mapping [####] 100%  20000/20000 VMAs");
    expect(renderProgress(20001, 20000)).toBe(
      "limit check: 20001 VMAs, mapping until the kernel refuses",
    );
  });

  const report: StressReport = {
    schemaVersion: 1,
    generatedAt: "2025-01-01T00:00:00.000Z",
    target: 100000,
    settings: {
      checkpoints: [50, 100],
      repeat: 5,
      limitCheck: true,
      timeLimitSeconds: 600,
      force: false,
    },
    journalRecovery: null,
    limit: { original: 65530, requested: null, during: 65530, restore: null },
    worker: { pid: 7, baseline: 61, baselineExact: true, rssBytes: 1 << 20, rssAtVmasAdded: 65214 },
    checkpoints: [
      {
        percent: 50,
        created: 50000,
        expectedVmas: 50061,
        vmas: 50061,
        exact: true,
        scan: { repeat: 5, medianMs: 22, minMs: 21, maxMs: 25, usPerVma: 0.44, bytes: 2_500_000 },
      },
    ],
    allExact: true,
    targetReached: false,
    creation: { created: 65470, mappingMs: 200, vmasPerSecond: 327350 },
    slab: null,
    slabUnavailable: "/proc/slabinfo is readable only by root",
    fullScan: null,
    limitCheck: {
      ...judgeLimit({ limit: 65530, baseline: 61, created: 65470, errno: 12 }),
      released: 256,
      afterReleaseVmas: 65275,
      afterReleaseExpected: 65275,
      exact: true,
    },
    honored: true,
    suggestion: suggestApply(100000, 61),
    warnings: [],
    exitCode: 1,
  };
  test("the text report says where the kernel refused and what to apply", () => {
    const text = renderStressText(report, palette(false));
    expect(text).toContain("limit honored: expected 65531, observed 65531");
    expect(text).toContain("Target not reached: the kernel refused at 65531 VMAs");
    expect(text).toContain("sudo vmaudit apply 160000");
    expect(text).toMatch(/50061 +50% +22\.00 +0\.440 +yes +█+/);
    expect(text).toContain("not measured (/proc/slabinfo is readable only by root)");
  });
  test("a refusal off the rule is reported as NOT honored", () => {
    const bad = { ...report, honored: false };
    expect(renderStressText(bad, palette(false))).toContain("limit NOT honored");
  });
  test("the JSON report is one document with the schema version", () => {
    const j = JSON.parse(renderStressJson(report));
    expect(j.schemaVersion).toBe(1);
    expect(j.limitCheck.expectedPeak).toBe(65531);
  });
});
