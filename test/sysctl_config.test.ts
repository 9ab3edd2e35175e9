/**
 * sysctl config parsing and boot-time precedence, over fixture trees built in
 * temp dirs and read by the real adapter.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import {
  parseProcpsConfig,
  parseSystemdConfig,
  procpsKeyPath,
  systemdLines,
  systemdNormalizeKey,
} from "../src/sysctl/config.ts";
import { bootReaderOf, readSysctlConfigFiles } from "../src/sysctl/config_files.ts";
import { expandConfName, fnmatch, globProcSys } from "../src/sysctl/glob.ts";
import { kernelParseMaxMapCount } from "../src/sysctl/kernel_int.ts";
import {
  applyOrder,
  compareNames,
  effectiveBootValue,
  laterFileName,
  memoryConfigFile,
  overridesOf,
  withFile,
  withoutFile,
} from "../src/sysctl/precedence.ts";
import { makeSysctlRoot, type SysctlTree } from "./helpers/sysctl_tree.ts";

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
function analyse(tree: SysctlTree) {
  const root = makeSysctlRoot(tree);
  roots.push(root);
  const files = readSysctlConfigFiles(root);
  return { root, files, boot: effectiveBootValue(files) };
}

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

describe("fnmatch(), globProcSys() and expandConfName(): glibc's glob as the tools use it", () => {
  const matches: [string, string, boolean][] = [
    ["max_map_*", "max_map_count", true],
    ["max_map_coun?", "max_map_count", true],
    ["max_map_coun[t]", "max_map_count", true],
    ["max_map_coun[!x]", "max_map_count", true],
    ["max_map_coun[^t]", "max_map_count", false],
    ["max_map_coun[a-z]", "max_map_count", true],
    ["max_map_coun[[:alpha:]]", "max_map_count", true],
    ["max_map_co?n\\t", "max_map_count", true],
    ["max_map_count[", "max_map_count[", true],
    ["max_map_count\\", "max_map_count\\", false],
    ["*.conf", ".hidden.conf", false],
    [".*.conf", ".hidden.conf", true],
    ["?.conf", ".conf", false],
  ];
  for (const [pattern, name, expected] of matches) {
    test(`fnmatch("${pattern}", "${name}") is ${expected}`, () => {
      expect(fnmatch(pattern, name)).toBe(expected);
    });
  }
  const globs: [string, string[]][] = [
    ["/proc/sys/vm/max_map_*", ["/proc/sys/vm/max_map_count"]],
    ["/proc/sys/*/max_map_count", ["/proc/sys/vm/max_map_count"]],
    ["/proc/sys/vm//max_*", ["/proc/sys/vm//max_map_count"]],
    ["/proc/sys/v*//max_map_count", ["/proc/sys/vm//max_map_count"]],
    ["/proc/sys/v\\m/max_*", ["/proc/sys/vm/max_map_count"]],
    ["/proc/sys/v*count", []],
    ["/proc/sys/vm/max_map.*", []],
    ["/proc/sys/vm/max_map_count[", []],
    ["/proc/sys/vm/max_map_count*/", []],
  ];
  for (const [pattern, expected] of globs) {
    test(`globProcSys("${pattern}") finds ${JSON.stringify(expected)}`, () => {
      expect(globProcSys(pattern)).toEqual(expected);
    });
  }
  const dir = [
    "5*.conf",
    "50-b.conf",
    "40-c.conf",
    "{a,b}.conf",
    "b.conf",
    "\\a.conf",
    "a.conf",
    "\\*.conf",
    "{x,y}.conf",
    ".h.conf",
  ];
  const expansions: [string, string[]][] = [
    ["50-b.conf", ["50-b.conf"]],
    ["5*.conf", ["5*.conf", "50-b.conf"]],
    ["{a,b}.conf", ["a.conf", "b.conf"]],
    ["{x,y}.conf", ["{x,y}.conf"]],
    ["\\a.conf", ["a.conf"]],
    ["\\*.conf", ["\\*.conf"]],
    [
      "*.conf",
      [
        "40-c.conf",
        "5*.conf",
        "50-b.conf",
        "\\*.conf",
        "\\a.conf",
        "a.conf",
        "b.conf",
        "{a,b}.conf",
        "{x,y}.conf",
      ],
    ],
  ];
  for (const [name, expected] of expansions) {
    test(`procps opens ${JSON.stringify(expected)} for "${name}"`, () => {
      expect(expandConfName(name, dir)).toEqual(expected);
    });
  }
});

describe("effectiveBootValue() over fixture trees", () => {
  test("the same key in several files: the file whose name sorts last wins, whatever its directory", () => {
    const { boot } = analyse({
      "/usr/lib/sysctl.d/10-a.conf": "vm.max_map_count = 100000\n",
      "/etc/sysctl.d/30-c.conf": "vm.max_map_count = 300000\n",
      "/usr/lib/sysctl.d/50-b.conf": "vm.max_map_count = 500000\n",
      "/run/sysctl.d/20-r.conf": "vm.max_map_count = 200000\n",
      "/usr/local/lib/sysctl.d/40-l.conf": "vm.max_map_count = 400000\n",
    });
    for (const o of [boot.systemd, boot.procps]) {
      expect(o.settings.map((s) => s.path)).toEqual([
        "/usr/lib/sysctl.d/10-a.conf",
        "/run/sysctl.d/20-r.conf",
        "/etc/sysctl.d/30-c.conf",
        "/usr/local/lib/sysctl.d/40-l.conf",
        "/usr/lib/sysctl.d/50-b.conf",
      ]);
      expect(o.winner?.path).toBe("/usr/lib/sysctl.d/50-b.conf");
      expect(o.value).toBe(500000);
    }
  });

  test("two assignments in one file: the later line wins", () => {
    const { boot } = analyse({
      "/etc/sysctl.d/50-x.conf": "vm.max_map_count = 1\nvm.max_map_count = 262144\n",
    });
    expect(boot.systemd.winner?.line).toBe(2);
    expect(boot.systemd.value).toBe(262144);
  });

  test("an /etc file hides the /usr/lib file of the same name", () => {
    const { boot } = analyse({
      "/usr/lib/sysctl.d/50-x.conf": "vm.max_map_count = 1048576\n",
      "/etc/sysctl.d/50-x.conf": "vm.max_map_count = 200000\n",
      "/run/sysctl.d/50-x.conf": "vm.max_map_count = 300000\n",
    });
    expect(boot.systemd.value).toBe(200000);
    expect(boot.procps.value).toBe(200000);
    expect(boot.systemd.settings).toHaveLength(1);
    expect(boot.shadowed).toEqual([
      {
        path: "/run/sysctl.d/50-x.conf",
        by: "/etc/sysctl.d/50-x.conf",
        byMask: false,
        byKind: "file",
      },
      {
        path: "/usr/lib/sysctl.d/50-x.conf",
        by: "/etc/sysctl.d/50-x.conf",
        byMask: false,
        byKind: "file",
      },
    ]);
  });

  test("/run hides /usr/lib, and /usr/lib hides /lib (procps)", () => {
    const { boot } = analyse({
      "/usr/lib/sysctl.d/50-x.conf": "vm.max_map_count = 100000\n",
      "/run/sysctl.d/50-x.conf": "vm.max_map_count = 300000\n",
      "/lib/sysctl.d/50-x.conf": "vm.max_map_count = 400000\n",
      "/lib/sysctl.d/60-only-lib.conf": "vm.max_map_count = 600000\n",
    });
    expect(boot.systemd.value).toBe(300000);
    // procps also reads /lib/sysctl.d, which systemd does not.
    expect(boot.procps.value).toBe(600000);
  });

  test("a /dev/null symlink in /etc masks the vendor file, which then sets nothing", () => {
    const { boot } = analyse({
      "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 262144\n",
      "/etc/sysctl.d/elasticsearch.conf": { link: "/dev/null" },
    });
    expect(boot.systemd.value).toBe(65530);
    expect(boot.procps.value).toBe(65530);
    expect(boot.systemd.winner).toBeUndefined();
    expect(boot.systemd.order).not.toContain("/etc/sysctl.d/elasticsearch.conf");
    expect(boot.shadowed).toEqual([
      {
        path: "/usr/lib/sysctl.d/elasticsearch.conf",
        by: "/etc/sysctl.d/elasticsearch.conf",
        byMask: true,
        byKind: "null",
      },
    ]);
  });

  test("a relative link to ../../dev/null is a mask too", () => {
    const { boot } = analyse({
      "/usr/lib/sysctl.d/10-arch.conf": "vm.max_map_count = 1048576\n",
      "/etc/sysctl.d/10-arch.conf": { link: "../../dev/null" },
    });
    expect(boot.systemd.value).toBe(65530);
  });

  test("/etc/sysctl.conf is read last by procps only; 99-sysctl.conf links it in for systemd", () => {
    const without = analyse({
      "/etc/sysctl.conf": "vm.max_map_count = 100000\n",
      "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 262144\n",
    }).boot;
    expect(without.systemd.value).toBe(262144);
    expect(without.procps.value).toBe(100000);
    expect(without.procps.order.at(-1)).toBe("/etc/sysctl.conf");
    expect(without.systemd.order).not.toContain("/etc/sysctl.conf");

    const linked = analyse({
      "/etc/sysctl.conf": "vm.max_map_count = 100000\n",
      "/etc/sysctl.d/99-sysctl.conf": { link: "../sysctl.conf" },
      "/usr/lib/sysctl.d/50-x.conf": "vm.max_map_count = 50000\n",
    }).boot;
    // systemd reads sysctl.conf through the link, as 99-sysctl.conf.
    expect(linked.systemd.winner?.path).toBe("/etc/sysctl.d/99-sysctl.conf");
    expect(linked.systemd.value).toBe(100000);
    // procps reads it twice: as 99-sysctl.conf and, last, as itself.
    expect(linked.procps.settings.map((s) => s.path)).toEqual([
      "/usr/lib/sysctl.d/50-x.conf",
      "/etc/sysctl.d/99-sysctl.conf",
      "/etc/sysctl.conf",
    ]);
    expect(linked.procps.value).toBe(100000);
  });

  test("an absolute link is resolved inside the root, not on the host", () => {
    const { boot } = analyse({
      "/etc/sysctl.conf": "vm.max_map_count = 123456\n",
      "/etc/sysctl.d/99-sysctl.conf": { link: "/etc/sysctl.conf" },
    });
    expect(boot.systemd.value).toBe(123456);
  });

  test("elasticsearch.conf beats 90-vm_max_map_count.conf: letters sort after digits", () => {
    const { root, boot } = analyse({
      "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count=262144\n",
      "/etc/sysctl.d/90-vm_max_map_count.conf": "vm.max_map_count = 120000\n",
    });
    expect(boot.systemd.winner?.path).toBe("/usr/lib/sysctl.d/elasticsearch.conf");
    expect(boot.systemd.value).toBe(262144);
    const overrides = overridesOf(boot, 120000);
    expect(overrides.map((o) => [o.reader, o.value, o.winner?.path])).toEqual([
      ["systemd", 262144, "/usr/lib/sysctl.d/elasticsearch.conf"],
      ["procps", 262144, "/usr/lib/sysctl.d/elasticsearch.conf"],
    ]);
    // The suggested name really wins.
    const later = laterFileName("elasticsearch.conf");
    const fixed = effectiveBootValue(
      withFile(
        withoutFile(readSysctlConfigFiles(root), "/etc/sysctl.d/90-vm_max_map_count.conf"),
        memoryConfigFile("/etc/sysctl.d", later, "vm.max_map_count = 120000\n"),
      ),
    );
    expect(fixed.systemd.value).toBe(120000);
    expect(overridesOf(fixed, 120000)).toEqual([]);
  });

  test("the slash form of the key counts like the dotted form", () => {
    const { boot } = analyse({
      "/etc/sysctl.d/90-vm_max_map_count.conf": "vm.max_map_count = 120000\n",
      "/usr/lib/sysctl.d/95-slash.conf": "vm/max_map_count = 300000\n",
    });
    expect(boot.systemd.winner?.path).toBe("/usr/lib/sysctl.d/95-slash.conf");
    expect(boot.systemd.value).toBe(300000);
  });

  test("comments and odd whitespace: only the real assignment counts", () => {
    const { boot } = analyse({
      "/etc/sysctl.d/95-odd.conf":
        "# vm.max_map_count = 1\n  ; vm.max_map_count = 2\n\n\t  -vm.max_map_count\t =   262144   \nkernel.pid_max=5\n",
    });
    expect(boot.systemd.settings).toEqual([
      {
        path: "/etc/sysctl.d/95-odd.conf",
        line: 4,
        key: "-vm.max_map_count",
        raw: "262144",
        value: 262144,
        written: true,
      },
    ]);
    expect(boot.systemd.value).toBe(262144);
  });

  test("a value the kernel refuses: systemd keeps the default, procps the previous value", () => {
    const { boot } = analyse({
      "/etc/sysctl.d/10-ok.conf": "vm.max_map_count = 200000\n",
      "/etc/sysctl.d/20-bad.conf": "vm.max_map_count = lots\n",
    });
    expect(boot.systemd.winner?.raw).toBe("lots");
    expect(boot.systemd.value).toBe(65530);
    expect(boot.procps.value).toBe(200000);
  });

  test("only *.conf entries count; systemd skips hidden names, procps reads them; a dangling link sets nothing", () => {
    const { boot, files } = analyse({
      "/etc/sysctl.d/README.sysctl": "vm.max_map_count = 1\n",
      "/etc/sysctl.d/.hidden.conf": "vm.max_map_count = 200000\n",
      "/etc/sysctl.d/50-x.conf.bak": "vm.max_map_count = 3\n",
      "/etc/sysctl.d/60-dangling.conf": { link: "/nowhere/at/all.conf" },
    });
    expect(files.map((f) => [f.path, f.kind])).toEqual([
      ["/etc/sysctl.d/.hidden.conf", "file"],
      ["/etc/sysctl.d/60-dangling.conf", "missing"],
    ]);
    expect(boot.systemd.value).toBe(65530);
    expect(boot.procps.value).toBe(200000);
  });

  test("no config at all gives the kernel default", () => {
    const { boot } = analyse({});
    expect(boot.systemd.value).toBe(65530);
    expect(boot.procps.value).toBe(65530);
  });
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

describe("the order agrees with systemd's own", () => {
  const analyze = Bun.which("systemd-analyze");
  const t = analyze ? test : test.skip;
  if (!analyze) console.warn("SKIP (needs systemd-analyze from the systemd package)");
  t("systemd-analyze cat-config --root lists the same files in the same order", () => {
    const { root, files } = analyse({
      "/usr/lib/sysctl.d/10-arch.conf": "vm.max_map_count = 1048576\n",
      "/usr/lib/sysctl.d/50-x.conf": "a = 1\n",
      "/etc/sysctl.d/50-x.conf": "b = 2\n",
      "/run/sysctl.d/70-run.conf": "c = 3\n",
      "/usr/local/lib/sysctl.d/80-local.conf": "d = 4\n",
      "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count = 262144\n",
      "/etc/sysctl.d/elasticsearch.conf": { link: "/dev/null" },
      "/etc/sysctl.d/90-vm_max_map_count.conf": "vm.max_map_count = 120000\n",
      "/etc/sysctl.d/Zeta.conf": "e = 5\n",
      "/etc/sysctl.d/_under.conf": "f = 6\n",
      "/etc/sysctl.conf": "g = 7\n",
    });
    const p = Bun.spawnSync([
      analyze ?? "",
      "cat-config",
      "sysctl.d",
      `--root=${root}`,
      "--no-pager",
    ]);
    expect(p.exitCode).toBe(0);
    const theirs = p.stdout
      .toString()
      .split("\n")
      .filter((l) => l.startsWith(`# ${root}/`))
      .map((l) => l.slice(2 + root.length));
    // A mask is in the list too: systemd-sysctl opens it and reads nothing.
    const ours = applyOrder(files, "systemd").applied.map((f) => f.path);
    expect(theirs).toEqual(ours);
    expect(theirs).toContain("/etc/sysctl.d/elasticsearch.conf");
  });
});

describe("bootReaderOf()", () => {
  test("is systemd when systemd-sysctl is installed in the root, else procps", () => {
    const a = makeSysctlRoot({ "/usr/lib/systemd/systemd-sysctl": "" });
    const b = makeSysctlRoot({});
    roots.push(a, b);
    expect(bootReaderOf(a)).toBe("systemd");
    expect(bootReaderOf(b)).toBe("procps");
  });
});
