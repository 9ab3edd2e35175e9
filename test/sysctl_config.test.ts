/**
 * sysctl config parsing and boot-time precedence, over fixture trees built in
 * temp dirs and read by the real adapter.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import {
  normalizeSysctlKey,
  parseMaxMapCountValue,
  parseSysctlConfig,
} from "../src/sysctl/config.ts";
import { bootReaderOf, readSysctlConfigFiles } from "../src/sysctl/config_files.ts";
import {
  applyOrder,
  compareNames,
  effectiveBootValue,
  laterFileName,
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

describe("parseSysctlConfig()", () => {
  const cases: [
    string,
    string,
    { key: string; value: string; line: number; ignoreErrors: boolean }[],
  ][] = [
    [
      "a plain line",
      "vm.max_map_count = 262144\n",
      [{ key: "vm.max_map_count", value: "262144", line: 1, ignoreErrors: false }],
    ],
    [
      "no spaces",
      "vm.max_map_count=5",
      [{ key: "vm.max_map_count", value: "5", line: 1, ignoreErrors: false }],
    ],
    [
      "tabs and trailing blanks",
      "\t vm.max_map_count\t=\t  7  \t\n",
      [{ key: "vm.max_map_count", value: "7", line: 1, ignoreErrors: false }],
    ],
    [
      "a CRLF line",
      "vm.max_map_count = 8\r\n",
      [{ key: "vm.max_map_count", value: "8", line: 1, ignoreErrors: false }],
    ],
    [
      "the slash form",
      "vm/max_map_count = 9",
      [{ key: "vm.max_map_count", value: "9", line: 1, ignoreErrors: false }],
    ],
    [
      "a leading -",
      "-vm.max_map_count = 10",
      [{ key: "vm.max_map_count", value: "10", line: 1, ignoreErrors: true }],
    ],
    [
      "- and blanks",
      "  - vm/max_map_count=11",
      [{ key: "vm.max_map_count", value: "11", line: 1, ignoreErrors: true }],
    ],
    [
      "# and ; comments, blank lines",
      "# vm.max_map_count = 1\n; vm.max_map_count = 2\n\n   # x = 3\n",
      [],
    ],
    ["a line without =", "vm.max_map_count 5\n-vm.max_map_count\n", []],
    [
      "an empty value",
      "vm.max_map_count =",
      [{ key: "vm.max_map_count", value: "", line: 1, ignoreErrors: false }],
    ],
    [
      "line numbers count comments",
      "# c\n\nvm.max_map_count=1\nkernel.pid_max = 4\n",
      [
        { key: "vm.max_map_count", value: "1", line: 3, ignoreErrors: false },
        { key: "kernel.pid_max", value: "4", line: 4, ignoreErrors: false },
      ],
    ],
  ];
  for (const [name, text, expected] of cases) {
    test(`parses ${name}`, () => {
      expect(parseSysctlConfig(text)).toEqual(expected);
    });
  }
});

describe("normalizeSysctlKey()", () => {
  const cases: [string, string][] = [
    ["vm.max_map_count", "vm.max_map_count"],
    ["vm/max_map_count", "vm.max_map_count"],
    [" vm/max_map_count ", "vm.max_map_count"],
    ["vm//max_map_count", "vm.max_map_count"],
    // systemd: a dot in a slash-form name stays part of the name.
    ["net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter"],
    ["net.ipv4.conf.eth0/100.rp_filter", "net.ipv4.conf.eth0/100.rp_filter"],
  ];
  for (const [raw, expected] of cases) {
    test(`"${raw}" is ${expected}`, () => expect(normalizeSysctlKey(raw)).toBe(expected));
  }
});

describe("parseMaxMapCountValue()", () => {
  const cases: [string, number | undefined][] = [
    ["0", 0],
    ["65530", 65530],
    ["2147483647", 2147483647],
    ["2147483648", undefined],
    ["-1", undefined],
    ["1e6", undefined],
    ["0x10", undefined],
    ["12.5", undefined],
    ["", undefined],
    ["262144 # comment", undefined],
  ];
  for (const [raw, expected] of cases) {
    test(`"${raw}" is ${expected}`, () => expect(parseMaxMapCountValue(raw)).toBe(expected));
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
      { path: "/run/sysctl.d/50-x.conf", by: "/etc/sysctl.d/50-x.conf", byMask: false },
      { path: "/usr/lib/sysctl.d/50-x.conf", by: "/etc/sysctl.d/50-x.conf", byMask: false },
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
      withFile(withoutFile(readSysctlConfigFiles(root), "/etc/sysctl.d/90-vm_max_map_count.conf"), {
        path: `/etc/sysctl.d/${later}`,
        dir: "/etc/sysctl.d",
        name: later,
        masked: false,
        text: "vm.max_map_count = 120000\n",
      }),
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
      { path: "/etc/sysctl.d/95-odd.conf", line: 4, raw: "262144", value: 262144 },
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

  test("only *.conf files count; hidden files, other names and dangling links are skipped", () => {
    const { boot, files } = analyse({
      "/etc/sysctl.d/README.sysctl": "vm.max_map_count = 1\n",
      "/etc/sysctl.d/.hidden.conf": "vm.max_map_count = 2\n",
      "/etc/sysctl.d/50-x.conf.bak": "vm.max_map_count = 3\n",
      "/etc/sysctl.d/60-dangling.conf": { link: "/nowhere/at/all.conf" },
    });
    expect(files.map((f) => f.path)).toEqual([]);
    expect(boot.systemd.value).toBe(65530);
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
    // systemd-analyze lists a mask as an empty file in place; systemd-sysctl skips it.
    const ours = applyOrder(files, "systemd").applied.map((f) => f.path);
    expect(theirs.filter((p) => p !== "/etc/sysctl.d/elasticsearch.conf")).toEqual(ours);
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
