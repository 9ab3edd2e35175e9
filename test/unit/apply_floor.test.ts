/**
 * `vmaudit apply --at-least N`, pure parts: the option rules, what a floor
 * does with vmaudit's file given the config (in memory, judged by the same
 * precedence code as `apply --persist`), and its messages.
 */
import { describe, expect, test } from "bun:test";
import type { ApplyResult, FileAction } from "../../src/apply/apply.ts";
import { belowFloor, floorFileAction } from "../../src/apply/floor.ts";
import { floorLines, overrideError, renderApplyText } from "../../src/apply/render.ts";
import { applyRequest } from "../../src/commands/apply.run.ts";
import { applyCommand } from "../../src/commands/apply.ts";
import { palette } from "../../src/render/color.ts";
import {
  type ConfigFile,
  effectiveBootValue,
  memoryConfigFile,
  type SysctlReader,
  withFile,
} from "../../src/sysctl/precedence.ts";
import { codeOf } from "../helpers/exit_code.ts";
import { type FlagValues, parsed } from "../helpers/parse_args.ts";

const OURS = "90-vm_max_map_count.conf";

function request(values: FlagValues, positionals: string[] = []) {
  return applyRequest(parsed(applyCommand, values, positionals));
}

describe("--at-least in apply's arguments", () => {
  test("is parsed as the floor and leaves VALUE unset", () => {
    const o = request({ "at-least": "262144", persist: true });
    expect([o.atLeast, o.value, o.persist, o.reset]).toEqual([262144, undefined, true, false]);
  });
  test("goes with --dry-run, --json, --force, --file and an image --root with --persist", () => {
    const o = request({
      "at-least": "2000000",
      "dry-run": true,
      json: true,
      force: true,
      persist: true,
      file: "95-x.conf",
      root: "/mnt/img/",
    });
    expect([o.atLeast, o.dryRun, o.json, o.force, o.file, o.root]).toEqual([
      2000000,
      true,
      true,
      true,
      "95-x.conf",
      "/mnt/img",
    ]);
  });
  const refusals: [string, FlagValues, string[], RegExp][] = [
    [
      "with VALUE",
      { "at-least": "262144" },
      ["300000"],
      /^Cannot use VALUE "300000" with --at-least 262144/,
    ],
    ["with --reset", { "at-least": "262144", reset: true }, [], /--at-least with --reset/],
    [
      "with --show-config",
      { "at-least": "262144", "show-config": true },
      [],
      /^Cannot combine --show-config with VALUE, --at-least/,
    ],
    [
      "an image --root without --persist",
      { "at-least": "262144", root: "/img" },
      [],
      /without --persist/,
    ],
    ["not a number", { "at-least": "abc" }, [], /^Cannot parse --at-least "abc"/],
    ["zero", { "at-least": "0" }, [], /^Cannot use --at-least "0"/],
    ["an exponent", { "at-least": "1e6" }, [], /^Cannot parse --at-least "1e6"/],
    ["above INT_MAX", { "at-least": "2147483648" }, [], /expected at most 2147483647/],
  ];
  for (const [name, values, positionals, message] of refusals) {
    test(`refuses --at-least ${name} with exit 2 and one line`, () => {
      expect(codeOf(() => request(values, positionals))).toBe(2);
      expect(() => request(values, positionals)).toThrow(message);
    });
  }
});

/** A config of files by target-system path. */
function config(tree: Record<string, string>): ConfigFile[] {
  return Object.entries(tree).map(([path, text]) => {
    const slash = path.lastIndexOf("/");
    return memoryConfigFile(path.slice(0, slash), path.slice(slash + 1), text);
  });
}

/** floorFileAction as applyFloor calls it: the analysis after is made only when needed. */
function judge(tree: Record<string, string>, floor: number) {
  const files = config(tree);
  const before = effectiveBootValue(files);
  const needed = belowFloor(before, floor).length > 0;
  const own = files.find((f) => f.path === `/etc/sysctl.d/${OURS}`);
  const content = `vm.max_map_count = ${floor}\n`;
  const after = needed
    ? effectiveBootValue(withFile(files, memoryConfigFile("/etc/sysctl.d", OURS, content)))
    : undefined;
  const fileChanged = !own || Buffer.from(own.data).toString() !== content;
  return floorFileAction({ before, after, floor, fileChanged });
}

describe("floorFileAction(): what a floor does with vmaudit's file", () => {
  const cases: [string, Record<string, string>, FileAction, SysctlReader[]][] = [
    ["an empty config (both tools at 65530)", {}, "write", []],
    [
      "a vendor file with exactly the floor",
      { "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 262144\n" },
      "not-needed",
      [],
    ],
    [
      "Ubuntu's 10-map-count.conf above the floor (vmaudit's file would come after it and lower it)",
      { "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n" },
      "not-needed",
      [],
    ],
    [
      "vmaudit's own file with a lower value",
      { [`/etc/sysctl.d/${OURS}`]: "vm.max_map_count = 100000\n" },
      "write",
      [],
    ],
    [
      "vmaudit's own file with a lower value, but a later file already above the floor",
      {
        [`/etc/sysctl.d/${OURS}`]: "vm.max_map_count = 100000\n",
        "/etc/sysctl.d/99-tuned.conf": "vm.max_map_count = 300000\n",
      },
      "not-needed",
      [],
    ],
    [
      "vmaudit's own file already at the floor, overridden by a later lower file",
      {
        [`/etc/sysctl.d/${OURS}`]: "vm.max_map_count = 262144\n",
        "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 200000\n",
      },
      "unchanged",
      [],
    ],
    [
      "a later lower file: the file is written (and overridden)",
      { "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 200000\n" },
      "write",
      [],
    ],
    [
      "a high earlier file for both tools and a low /etc/sysctl.conf for procps only",
      {
        "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n",
        "/etc/sysctl.conf": "vm.max_map_count = 65530\n",
      },
      "not-written",
      ["systemd"],
    ],
    [
      "a hidden file only procps reads, sorting before vmaudit's, above the floor",
      { "/etc/sysctl.d/.tuned.conf": "vm.max_map_count = 1048576\n" },
      "not-written",
      ["procps"],
    ],
  ];
  for (const [name, tree, action, lowered] of cases) {
    test(`${name}: ${action}`, () => {
      expect(judge(tree, 262144)).toEqual({ action, lowered });
    });
  }
});

describe("belowFloor()", () => {
  test("lists each tool below the floor with the setting that decides it", () => {
    const boot = effectiveBootValue(
      config({
        "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n",
        "/etc/sysctl.conf": "vm.max_map_count = 65530\n",
      }),
    );
    const below = belowFloor(boot, 262144);
    expect(below.map((o) => [o.reader, o.value, o.winner?.path])).toEqual([
      ["procps", 65530, "/etc/sysctl.conf"],
    ]);
    expect(belowFloor(boot, 65530)).toEqual([]);
    expect(belowFloor(boot, 65531).map((o) => o.reader)).toEqual(["procps"]);
  });
  test("a tool that no file sets is at the kernel default, with no winner", () => {
    expect(belowFloor(effectiveBootValue([]), 65531)).toEqual([
      { reader: "systemd", value: 65530, winner: undefined },
      { reader: "procps", value: 65530, winner: undefined },
    ]);
  });
});

/** A floor result, as applyFloor returns it, with its overrides from `tree`. */
function floorResult(over: Partial<ApplyResult>, tree: Record<string, string>): ApplyResult {
  const boot = effectiveBootValue(config(tree));
  return {
    schemaVersion: 1,
    action: "apply",
    dryRun: false,
    changed: true,
    value: 262144,
    source: "at-least",
    root: "/",
    live: { path: "/proc/sys/vm/max_map_count", previous: 65530, value: 262144, changed: true },
    file: {
      path: `/etc/sysctl.d/${OURS}`,
      action: "write",
      changed: true,
      content: "vm.max_map_count = 262144\n",
    },
    bootReader: "systemd",
    bootValue: boot.systemd.value,
    boot,
    overrides: belowFloor(boot, 262144),
    suggestedFile: null,
    busiest: null,
    recommendedLimit: null,
    warnings: [],
    ...over,
  };
}

describe("the floor's messages", () => {
  test("an overriding file is named with its value, below the floor, and a later name is suggested", () => {
    const r = floorResult(
      { suggestedFile: "zz-vm_max_map_count.conf" },
      {
        [`/etc/sysctl.d/${OURS}`]: "vm.max_map_count = 262144\n",
        "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 200000\n",
      },
    );
    const e = overrideError(r);
    expect(e?.message).toBe(
      `Another sysctl config overrides /etc/sysctl.d/${OURS}: /usr/lib/sysctl.d/elasticsearch.conf sets vm.max_map_count = 200000 at boot, below --at-least 262144`,
    );
    expect(e?.hint).toStartWith("To fix it: rerun with --file zz-vm_max_map_count.conf");
    expect(floorLines(r.overrides, 262144)).toEqual([
      "systemd-sysctl gives 200000 at boot, below 262144: /usr/lib/sysctl.d/elasticsearch.conf:1 sets vm.max_map_count = 200000",
      "sysctl --system gives 200000 at boot, below 262144: /usr/lib/sysctl.d/elasticsearch.conf:1 sets vm.max_map_count = 200000",
    ]);
  });
  test("no error when every tool gives at least the floor", () => {
    const r = floorResult({}, { [`/etc/sysctl.d/${OURS}`]: "vm.max_map_count = 262144\n" });
    expect(r.overrides).toEqual([]);
    expect(overrideError(r)).toBeUndefined();
  });
  test("a file the floor left alone, and a tool no file sets, are said as they are", () => {
    const file = {
      path: `/etc/sysctl.d/${OURS}`,
      action: "not-written" as const,
      changed: false,
      content: null,
    };
    const r = floorResult({ file }, {});
    expect(overrideError(r)?.message).toBe(
      `/etc/sysctl.d/${OURS} was not written, and systemd-sysctl gives 65530 at boot, below --at-least 262144: no file sets it`,
    );
    const written = floorResult({ file: { ...file, action: "write" } }, {});
    expect(overrideError(written)?.message).toBe(
      "vm.max_map_count at boot stays below --at-least 262144: systemd-sysctl gives 65530, and no file sets it",
    );
    expect(floorLines(r.overrides, 262144)[0]).toBe(
      "systemd-sysctl gives 65530 at boot, below 262144: no file sets it",
    );
  });
  test("the text report says 'At least' and leaves a higher live value alone", () => {
    const r = floorResult(
      {
        changed: false,
        live: {
          path: "/proc/sys/vm/max_map_count",
          previous: 300000,
          value: 300000,
          changed: false,
        },
        file: null,
      },
      { "/etc/sysctl.d/99-tuned.conf": "vm.max_map_count = 300000\n" },
    );
    const text = renderApplyText(r, palette(false));
    expect(text.split("\n").slice(0, 3)).toEqual([
      "Current value: 300000",
      "At least:      262144",
      "vm.max_map_count is already 300000, at least 262144: the live value is left alone",
    ]);
    expect(text).toEndWith("Nothing changed.\n");
  });
  test("the text report of a file the floor did not need", () => {
    const r = floorResult(
      {
        changed: false,
        file: {
          path: `/etc/sysctl.d/${OURS}`,
          action: "not-needed",
          changed: false,
          content: null,
        },
      },
      { "/usr/lib/sysctl.d/10-map-count.conf": "vm.max_map_count = 1048576\n" },
    );
    expect(renderApplyText(r, palette(false))).toContain(
      `/etc/sysctl.d/${OURS} was not written: at boot the value is already at least 262144\n`,
    );
  });
});
