/**
 * sysctl config parsing, pure: the kernel's reading of a write, each tool's
 * line ends, line parsing and key forms, and the name order of config files.
 */
import { describe, expect, test } from "bun:test";
import {
  parseProcpsConfig,
  parseSystemdConfig,
  procpsKeyPath,
  systemdLines,
  systemdNormalizeKey,
} from "../../src/sysctl/config.ts";
import { kernelParseMaxMapCount } from "../../src/sysctl/kernel_int.ts";
import { compareNames, laterFileName } from "../../src/sysctl/precedence.ts";

const bs = (s: string) => Buffer.from(s, "latin1");

describe("kernelParseMaxMapCount(): the kernel's reading of one write (proc_dointvec_minmax, min 0)", () => {
  // What the tools write is the value plus "\n". Every case that can be
  // tried safely is also tried on the real kernel by the differential test.
  const cases: [string, number | undefined][] = [
    ["262144\n", 262144],
    ["0\n", 0],
    ["-0\n", 0],
    ["65530", 65530],
    ["2147483647\n", 2147483647],
    ["2147483648\n", undefined],
    ["4294967296\n", undefined],
    ["99999999999999999999\n", undefined],
    ["-1\n", undefined],
    ["+262144\n", undefined],
    ["\n", undefined],
    ["", undefined],
    ["-\n", undefined],
    // trailing garbage after a space, tab or newline is ignored
    ["262144 # es\n", 262144],
    ["262144 abc\n", 262144],
    ["262144\tabc\n", 262144],
    ["300000 = 6\n", 300000],
    ["262144 262145\n", 262144],
    ["262144 ", 262144],
    // glued garbage, or any other byte after the number, is refused
    ["262144abc\n", undefined],
    ["262144\r\n", undefined],
    ["262144\f\n", undefined],
    ["262144\v\n", undefined],
    ["262144\xa0\n", undefined],
    ["262144\x00\n", undefined],
    ["1e6\n", undefined],
    ["12.5\n", undefined],
    // base 0: hex and octal
    ["0x40000\n", 262144],
    ["0X40000\n", 262144],
    ["0x0040000\n", 262144],
    ["0x\n", undefined],
    ["0x40000x\n", undefined],
    ["0100000\n", 32768],
    ["0400000\n", 131072],
    ["0800000\n", undefined],
    ["-0x0\n", 0],
    // leading isspace() bytes are skipped, NBSP included (lib/ctype.c)
    ["  262144\n", 262144],
    ["\t\v\f\r262144\n", 262144],
    ["\n\n262144\n", 262144],
    ["\xa0262144\n", 262144],
    ["\x85262144\n", undefined],
    // the number must fit the 21-byte scratch buffer
    ["00000000000000262144\n", 91236],
    ["000000000000000262144\n", undefined],
  ];
  for (const [raw, expected] of cases) {
    test(`${JSON.stringify(raw)} is ${expected ?? "refused"}`, () => {
      expect(kernelParseMaxMapCount(bs(raw))).toBe(expected);
    });
  }
});

describe("systemdLines(): read_line's line ends", () => {
  const cases: [string, string, string[]][] = [
    ["LF", "a\nb\n", ["a", "b"]],
    ["CRLF", "a\r\nb", ["a", "b"]],
    ["CR only", "a\rb\r", ["a", "b"]],
    ["LF CR is one end", "a\n\rb", ["a", "b"]],
    ["two LFs make an empty line", "a\n\nb", ["a", "", "b"]],
    ["NUL ends a line", "a\x00b", ["a", "b"]],
    ["CR NUL is one end", "a\r\x00b", ["a", "b"]],
    ["NUL LF is two", "a\x00\nb", ["a", "", "b"]],
    ["no final end", "a", ["a"]],
    ["empty", "", []],
  ];
  for (const [name, text, lines] of cases) {
    test(name, () => expect(systemdLines(text)).toEqual({ lines, complete: true }));
  }
  test("a line over 1 MiB stops the reading, keeping the lines before it", () => {
    const r = systemdLines(`a\n${"x".repeat(1024 * 1024 + 1)}\nb\n`);
    expect(r).toEqual({ lines: ["a"], complete: false });
  });
});

describe("parseSystemdConfig() and parseProcpsConfig(): how each tool reads one line", () => {
  // [line, systemd [key, value], procps [path, value]]; null: no directive.
  type Seen = [string, string | null] | null;
  const cases: [string, Seen, Seen][] = [
    [
      "vm.max_map_count = 262144",
      ["vm/max_map_count", "262144"],
      ["/proc/sys/vm/max_map_count", "262144"],
    ],
    ["vm/max_map_count=5", ["vm/max_map_count", "5"], ["/proc/sys/vm/max_map_count", "5"]],
    ["vm..max_map_count = 5", ["vm/max_map_count", "5"], ["/proc/sys/vm//max_map_count", "5"]],
    ["vm.max_map_count. = 5", ["vm/max_map_count", "5"], ["/proc/sys/vm/max_map_count/", "5"]],
    [".vm.max_map_count = 5", ["vm/max_map_count", "5"], ["/proc/sys//vm/max_map_count", "5"]],
    ["vm/./max_map_count = 5", ["vm/max_map_count", "5"], ["/proc/sys/vm/./max_map_count", "5"]],
    [
      "net/ipv4/conf/eth0.100/rp_filter = 1",
      ["net/ipv4/conf/eth0.100/rp_filter", "1"],
      ["/proc/sys/net/ipv4/conf/eth0.100/rp_filter", "1"],
    ],
    ["- vm.max_map_count = 5", ["vm/max_map_count", "5"], ["/proc/sys/ vm/max_map_count", "5"]],
    ["--vm.max_map_count = 5", ["-vm/max_map_count", "5"], ["/proc/sys/vm/max_map_count", "5"]],
    ["-vm.max_map_count", ["vm/max_map_count", null], ["/proc/sys/vm/max_map_count", null]],
    ["- vm.max_map_count", ["vm/max_map_count", null], ["/proc/sys/ vm/max_map_count", null]],
    ["vm.max_map_count", null, null],
    ["vm.max_map_count =", ["vm/max_map_count", ""], ["/proc/sys/vm/max_map_count", ""]],
    [
      "vm.max_map_count = 5 = 6",
      ["vm/max_map_count", "5 = 6"],
      ["/proc/sys/vm/max_map_count", "5 = 6"],
    ],
    [
      "vm.max_map_count =\t\v5\f",
      ["vm/max_map_count", "\v5\f"],
      ["/proc/sys/vm/max_map_count", "5"],
    ],
    ["vm.max_map_count\v = 5", ["vm/max_map_count\v", "5"], ["/proc/sys/vm/max_map_count", "5"]],
    ["\fvm.max_map_count = 5", ["\fvm/max_map_count", "5"], ["/proc/sys/vm/max_map_count", "5"]],
    [
      "\xef\xbb\xbfvm.max_map_count = 5",
      ["\xef\xbb\xbfvm/max_map_count", "5"],
      ["/proc/sys/\xef\xbb\xbfvm/max_map_count", "5"],
    ],
    ["# vm.max_map_count = 5", null, null],
    ["  ; vm.max_map_count = 5", null, null],
    ["\f# vm.max_map_count = 5", ["\f# vm/max_map_count", "5"], null],
  ];
  for (const [line, sd, ps] of cases) {
    test(`${JSON.stringify(line)}`, () => {
      // Strings here are byte strings: one char per byte, as the parsers take them.
      const s = parseSystemdConfig(`${line}\n`).directives.map((d) => [d.key, d.value]);
      const p = parseProcpsConfig(`${line}\n`).map((d) => [d.key, d.value]);
      expect(s).toEqual(sd ? [sd] : []);
      expect(p).toEqual(ps ? [ps] : []);
    });
  }

  test("CR-only files are one line to procps, several to systemd", () => {
    const text = "vm.max_map_count = 262144\rvm.max_map_count = 300000\r";
    expect(parseSystemdConfig(text).directives.map((d) => d.value)).toEqual(["262144", "300000"]);
    expect(parseProcpsConfig(text).map((d) => d.value)).toEqual([
      "262144\rvm.max_map_count = 300000",
    ]);
  });

  test("a NUL ends a line for systemd and the text of a line for procps", () => {
    const text = "vm.max_map_count = 262144\x00vm.max_map_count = 300000\n";
    expect(parseSystemdConfig(text).directives.map((d) => d.value)).toEqual(["262144", "300000"]);
    expect(parseProcpsConfig(text).map((d) => d.value)).toEqual(["262144"]);
  });

  test("line numbers count every line each tool sees", () => {
    const text = "# c\n\nvm.max_map_count=1\rkernel.pid_max = 4\n";
    expect(parseSystemdConfig(text).directives.map((d) => d.line)).toEqual([3, 4]);
    expect(parseProcpsConfig(text).map((d) => d.line)).toEqual([3]);
  });
});

describe("systemdNormalizeKey() and procpsKeyPath()", () => {
  const cases: [string, string, string][] = [
    ["vm.max_map_count", "vm/max_map_count", "/proc/sys/vm/max_map_count"],
    ["vm/max_map_count", "vm/max_map_count", "/proc/sys/vm/max_map_count"],
    ["vm//max_map_count", "vm/max_map_count", "/proc/sys/vm//max_map_count"],
    ["/vm/max_map_count", "vm/max_map_count", "/proc/sys//vm/max_map_count"],
    ["vm/../vm/max_map_count", "vm/../vm/max_map_count", "/proc/sys/vm/../vm/max_map_count"],
    [
      "net.ipv4.conf.eth0/100.rp_filter",
      "net/ipv4/conf/eth0.100/rp_filter",
      "/proc/sys/net/ipv4/conf/eth0.100/rp_filter",
    ],
    ["-vm.max_map_count", "-vm/max_map_count", "/proc/sys/vm/max_map_count"],
  ];
  for (const [raw, sd, ps] of cases) {
    test(`"${raw}" is "${sd}" to systemd and "${ps}" to procps`, () => {
      expect(systemdNormalizeKey(raw)).toBe(sd);
      expect(procpsKeyPath(raw)).toBe(ps);
    });
  }
});

describe("laterFileName()", () => {
  const cases: [string, string][] = [
    ["50-x.conf", "99-vm_max_map_count.conf"],
    ["90-vm_max_map_count.conf", "99-vm_max_map_count.conf"],
    ["99-zzz.conf", "zz-vm_max_map_count.conf"],
    ["elasticsearch.conf", "zz-vm_max_map_count.conf"],
    ["zzz.conf", "zzzz-vm_max_map_count.conf"],
  ];
  for (const [name, expected] of cases) {
    test(`a name after ${name} is ${expected}`, () => {
      expect(laterFileName(name)).toBe(expected);
      expect(compareNames(expected, name)).toBeGreaterThan(0);
    });
  }
});

describe("compareNames()", () => {
  test("sorts bytes like strcmp: digits, capitals, underscore, lower case", () => {
    const names = ["elasticsearch.conf", "_a.conf", "99-x.conf", "Z.conf", "10-x.conf"];
    expect(names.sort(compareNames)).toEqual([
      "10-x.conf",
      "99-x.conf",
      "Z.conf",
      "_a.conf",
      "elasticsearch.conf",
    ]);
  });
});
