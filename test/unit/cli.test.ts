import { describe, expect, test } from "bun:test";
import { runMain } from "../../src/cli/run_main.ts";
import { parsePositiveInt } from "../../src/cli/values.ts";
import { COMMANDS } from "../../src/commands/index.ts";
import { scanRequest } from "../../src/commands/scan.run.ts";
import { scanCommand } from "../../src/commands/scan.ts";
import { UsageError } from "../../src/errors.ts";
import { useColor } from "../../src/render/color.ts";
import { fakeIo } from "../helpers/fake_io.ts";
import { type FlagValues, parsed } from "../helpers/parse_args.ts";

describe("parsePositiveInt()", () => {
  const bad = [
    "abc",
    "-5",
    "0x10",
    "1e6",
    "12.5",
    "",
    " 5",
    "+5",
    "0",
    "2147483648",
    "99999999999999999999",
  ];
  for (const raw of bad) {
    test(`rejects "${raw}" as a usage error`, () => {
      expect(() => parsePositiveInt("--vma", raw)).toThrow(UsageError);
    });
  }
  const good: [string, number][] = [
    ["1", 1],
    ["007", 7],
    ["2147483647", 2147483647],
    ["65530", 65530],
  ];
  for (const [raw, n] of good) {
    test(`accepts "${raw}" as ${n}`, () => expect(parsePositiveInt("--vma", raw)).toBe(n));
  }
  test("quotes the input and says what was expected", () => {
    expect(() => parsePositiveInt("--top", "abc")).toThrow(
      'Cannot parse --top "abc": expected a positive integer',
    );
  });
});

/** What `vmaudit scan` makes of its flags: the typed options as a scan request. */
function parseScanOptions(values: FlagValues, env: Record<string, string | undefined>) {
  return scanRequest(parsed(scanCommand, values).options, env);
}

describe("scan's options (parseCommandArgs, then scanRequest())", () => {
  test("uses the defaults", () => {
    // The name comes from SUDO_UID through /etc/passwd, not from SUDO_USER.
    const o = parseScanOptions({}, { SUDO_UID: "0", SUDO_USER: "ann" });
    expect(o).toMatchObject({
      procfs: "/proc",
      top: 20,
      headroom: 1.5,
      round: 10000,
      vma: undefined,
      anonymizeUser: "root",
      format: undefined,
      peaks: undefined,
      prometheusFile: undefined,
    });
  });
  test("reads every flag", () => {
    const o = parseScanOptions(
      { top: "5", vma: "80000", headroom: "1.2", round: "1", procfs: "/host/proc/", json: true },
      {},
    );
    expect(o).toMatchObject({
      procfs: "/host/proc",
      top: 5,
      headroom: 1.2,
      round: 1,
      vma: 80000,
      format: "json",
    });
  });
  const bad: [string, Record<string, string>, RegExp][] = [
    ["--top abc", { top: "abc" }, /--top "abc"/],
    ["--top -1", { top: "-1" }, /--top "-1"/],
    ["--top 0", { top: "0" }, /--top "0"/],
    ["--headroom 1.1", { headroom: "1.1" }, /at least 1.2/],
    ["--headroom 1.19", { headroom: "1.19" }, /at least 1.2/],
    ["--headroom abc", { headroom: "abc" }, /decimal number/],
    ["--round 0", { round: "0" }, /--round "0"/],
    ["--vma 0", { vma: "0" }, /--vma "0"/],
    ["--vma 1e99", { vma: "1e99" }, /--vma "1e99"/],
    ["--vma 3000000000", { vma: "3000000000" }, /at most 2147483647/],
  ];
  for (const [what, values, message] of bad) {
    test(`${what} is a usage error`, () => {
      expect(() => parseScanOptions(values, {})).toThrow(message);
    });
  }
  test("--headroom 1.2 is accepted", () =>
    expect(parseScanOptions({ headroom: "1.2" }, {}).headroom).toBe(1.2));
});

describe("useColor()", () => {
  const cases: [string, Parameters<typeof useColor>[0], boolean][] = [
    ["a terminal", { env: {}, isTTY: true, noColorFlag: false, json: false }, true],
    ["a pipe", { env: {}, isTTY: false, noColorFlag: false, json: false }, false],
    ["NO_COLOR=1", { env: { NO_COLOR: "1" }, isTTY: true, noColorFlag: false, json: false }, false],
    [
      "empty NO_COLOR is ignored",
      { env: { NO_COLOR: "" }, isTTY: true, noColorFlag: false, json: false },
      true,
    ],
    ["TERM=dumb", { env: { TERM: "dumb" }, isTTY: true, noColorFlag: false, json: false }, false],
    ["--no-color", { env: {}, isTTY: true, noColorFlag: true, json: false }, false],
    ["--json", { env: { FORCE_COLOR: "1" }, isTTY: true, noColorFlag: false, json: true }, false],
    [
      "FORCE_COLOR on a pipe",
      { env: { FORCE_COLOR: "1" }, isTTY: false, noColorFlag: false, json: false },
      true,
    ],
    [
      "FORCE_COLOR=0",
      { env: { FORCE_COLOR: "0" }, isTTY: false, noColorFlag: false, json: false },
      false,
    ],
  ];
  for (const [what, input, on] of cases)
    test(`${what}: ${on ? "on" : "off"}`, () => expect(useColor(input)).toBe(on));
});

describe("runMain()", () => {
  const cases: [string[], number, RegExp, "out" | "err"][] = [
    [["--version"], 0, /^vmaudit \d+\.\d+\.\d+ \(commit /, "out"],
    [["--help"], 0, /Commands:\n {2}scan/, "out"],
    [["help", "scan"], 0, /Usage: vmaudit scan/, "out"],
    [["scan", "--help"], 0, /--headroom FACTOR/, "out"],
    [[], 2, /Usage: vmaudit <command>/, "err"],
    [["nope"], 2, /Unknown command "nope": expected one of scan/, "err"],
    [["--nope"], 2, /Unknown option "--nope"/, "err"],
    [["scan", "--bogus"], 2, /Unknown option "--bogus" for 'vmaudit scan'/, "err"],
    [["scan", "--top"], 2, /Option --top needs a value: --top N/, "err"],
    [["scan", "--json=1"], 2, /Option --json does not take a value/, "err"],
    [["scan", "extra"], 2, /Unexpected argument "extra"/, "err"],
    [
      ["scan", "--procfs", "/nonexistent-proc"],
      1,
      /Cannot scan "\/nonexistent-proc": ENOENT/,
      "err",
    ],
    [["scan", "--procfs", "/etc/hostname"], 1, /not a directory/, "err"],
  ];
  for (const [argv, code, pattern, stream] of cases) {
    test(`vmaudit ${argv.join(" ")} exits ${code}`, async () => {
      const io = fakeIo();
      expect(await runMain(argv, COMMANDS, io)).toBe(code);
      expect(stream === "out" ? io.out : io.err).toMatch(pattern);
      if (code === 2 && argv.length > 0) expect(io.err).toMatch(/Run 'vmaudit .*--help' for usage/);
    });
  }
  test("every user mistake is one message line plus a hint, never a stack trace", async () => {
    const io = fakeIo();
    await runMain(["scan", "--vma", "1e99"], COMMANDS, io);
    expect(io.err.trim().split("\n")).toHaveLength(2);
    expect(io.err).not.toMatch(/at .*\.ts:\d+/);
  });
});
