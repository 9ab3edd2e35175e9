/**
 * Seeded random sysctl config trees for the differential test: names that
 * collide across directories, hidden and non-UTF-8 names, directories,
 * dangling and /dev/null links named `*.conf`, keys in every form (dots,
 * slashes, doubled separators, globs, `-` prefixes), comments, BOM, CR-only,
 * CRLF, `\n\r` and NUL line ends, values in decimal, hex, octal, with
 * garbage and odd whitespace, and /etc/sysctl.conf present or not.
 *
 * Numbers are at least the kernel default in most of the bases they can be
 * read in, so that most strings the tools write can also be tried on the
 * real kernel (the test leaves out those that could read low).
 */
import type { TreeEntry } from "./sysctl_oracle.ts";

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;

function pick<T>(r: Rand, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

/** Pick by weight: `[[weight, value], ...]`. */
function weighted<T>(r: Rand, items: readonly (readonly [number, T])[]): T {
  const total = items.reduce((s, [w]) => s + w, 0);
  let x = r() * total;
  for (const [w, v] of items) {
    x -= w;
    if (x < 0) return v;
  }
  return (items.at(-1) as readonly [number, T])[1];
}

const b = (s: string) => Buffer.from(s, "latin1");

const DIRS = ["/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d"];

/** Names shared between trees and directories, so that they collide and hide each other. */
const NAMES = [
  "10-arch.conf",
  "10-map-count.conf",
  "50-x.conf",
  "90-vm_max_map_count.conf",
  "99-sysctl.conf",
  "elasticsearch.conf",
  "Zeta.conf",
  "_under.conf",
  "zz-last.conf",
  ".hidden.conf",
  ".conf",
  "50-\xff.conf",
  "50-\xc3\xa9t\xc3\xa9.conf",
  "a\xfe\xfe.conf",
  "5*.conf",
  "?0-x.conf",
  "{a,50-x}.conf",
  "README.sysctl",
  "50-x.conf.bak",
];

function fileName(r: Rand): string {
  return weighted(r, [
    [6, () => pick(r, NAMES)],
    [
      4,
      () =>
        `${String(Math.floor(r() * 100)).padStart(2, "0")}-${pick(r, ["a", "vm", "es", "x"])}.conf`,
    ],
  ])();
}

const KEYS = [
  "vm.max_map_count",
  "vm/max_map_count",
  "vm..max_map_count",
  "vm.max_map_count.",
  ".vm.max_map_count",
  "vm/./max_map_count",
  "/vm/max_map_count",
  "vm/max_map_count/",
  "vm//max_map_count",
  "VM.max_map_count",
  "vm.max_map_count\xef\xbb\xbf",
];
const GLOBS = [
  "vm.max_map_*",
  "vm.*",
  "vm/max_map_*",
  "*.max_map_count",
  "vm.max_map_coun?",
  "vm.max_map_coun[t]",
  "vm.max_map_coun[!x]",
  "vm.max_map_co?n\\t",
  "vm..max_map_*",
  "vm.max_*_count",
  "vm.x*",
  "*.*",
  "vm.max_map_count*",
  "v?.max_map_count",
  "[uv]m.max_map_count",
  "vm.max_map_count[",
];
const OTHER_KEYS = ["kernel.pid_max", "vm.swappiness", "net.ipv4.ip_forward"];

/** A number that is at least 65530 in every base the kernel may read it in. */
function number(r: Rand): string {
  const v = weighted(r, [
    [5, () => 65536 + Math.floor(r() * 2_000_000)],
    [2, () => pick(r, [65530, 65536, 262144, 1048576, 2147483647])],
    [1, () => 65536 + Math.floor(r() * 2_147_000_000)],
  ])();
  return weighted(r, [
    [6, () => String(v)],
    [1, () => `0x${v.toString(16)}`],
    [1, () => `0X${v.toString(16).toUpperCase()}`],
    [1, () => `0${v.toString(8)}`],
    [1, () => `0${v}`],
    [
      1,
      () => pick(r, ["2147483648", "4294967296", "99999999999999999999", "000000000000000262144"]),
    ],
  ])();
}

function value(r: Rand): string {
  const lead = weighted(r, [
    [10, ""],
    [1, " "],
    [1, "\t"],
    [1, "\v"],
    [1, "\f"],
    [1, "\xa0"],
  ]);
  const body = weighted(r, [
    [12, () => number(r)],
    [
      1,
      () =>
        pick(r, [
          "lots",
          "",
          "-262144",
          "+262144",
          "1e6",
          "262144.5",
          "0x",
          "0800000",
          "-0x",
          "\xef\xbb\xbf262144",
        ]),
    ],
  ])();
  const tail = weighted(r, [
    [10, ""],
    [1, " # es"],
    [1, "\t# es"],
    [1, " abc"],
    [1, "abc"],
    [1, " "],
    [1, "\t"],
    [1, "\f"],
    [1, "\v"],
    [1, "\xa0"],
    [1, " = 6"],
    [1, "\x00junk"],
  ]);
  return lead + body + tail;
}

function line(r: Rand): string {
  const kind = weighted(r, [
    [10, "set"],
    [3, "glob"],
    [2, "cancel"],
    [2, "comment"],
    [2, "other"],
    [1, "blank"],
    [1, "garbage"],
  ]);
  const indent = weighted(r, [
    [10, ""],
    [1, "  "],
    [1, "\t"],
    [1, "\f"],
    [1, "\v"],
  ]);
  const dash = weighted(r, [
    [8, ""],
    [2, "-"],
    [1, "- "],
    [1, "--"],
  ]);
  const eq = pick(r, [" = ", "=", " =\t", "\t= ", "= ", " \v= "]);
  const keyTail = weighted(r, [
    [10, ""],
    [1, " "],
    [1, "\v"],
    [1, "\f"],
  ]);
  switch (kind) {
    case "set":
      return `${indent}${dash}${pick(r, KEYS)}${keyTail}${eq}${value(r)}`;
    case "glob":
      return `${indent}${dash}${pick(r, GLOBS)}${eq}${value(r)}`;
    case "cancel":
      return `${indent}${pick(r, ["-", "- ", "--"])}${pick(r, [...KEYS, ...GLOBS])}${keyTail}`;
    case "comment":
      return `${indent}${pick(r, ["#", ";", "# ", "; "])}vm.max_map_count = ${number(r)}`;
    case "other":
      return `${indent}${pick(r, OTHER_KEYS)}${eq}${pick(r, ["1", "0", "4194304"])}`;
    case "blank":
      return indent;
    default:
      return pick(r, ["vm.max_map_count", "[section]", "vm.max_map_count 262144", "=262144"]);
  }
}

function content(r: Rand): string {
  let out = r() < 0.05 ? "\xef\xbb\xbf" : "";
  const n = Math.floor(r() * 6);
  const style = weighted(r, [
    [10, "\n"],
    [1, "\r\n"],
    [1, "\r"],
    [1, "mixed"],
  ]);
  for (let i = 0; i < n; i++) {
    const end =
      style === "mixed" ? pick(r, ["\n", "\r\n", "\r", "\n\r", "\0", "\r\0", "\n\n"]) : style;
    out += line(r) + (i === n - 1 && r() < 0.15 ? "" : end);
  }
  return out;
}

/** A random tree: entries for `makeOracleRoot`. */
export function randomTree(r: Rand): TreeEntry[] {
  const entries: TreeEntry[] = [];
  const used = new Set<string>();
  const n = Math.floor(r() * 8);
  for (let i = 0; i < n; i++) {
    const dir = weighted(r, [
      [4, DIRS[0] as string],
      [1, DIRS[1] as string],
      [1, DIRS[2] as string],
      [3, DIRS[3] as string],
    ]);
    const path = `${dir}/${fileName(r)}`;
    if (used.has(path)) continue;
    used.add(path);
    const kind = weighted(r, [
      [16, "file"],
      [1, "dir"],
      [1, "dangling"],
      [1, "null"],
      [1, "link"],
    ]);
    if (kind === "file") entries.push({ path: b(path), kind: "file", data: b(content(r)) });
    else if (kind === "dir") entries.push({ path: b(path), kind: "dir" });
    else if (kind === "dangling")
      entries.push({ path: b(path), kind: "link", target: b("/nowhere/x.conf") });
    else if (kind === "null") entries.push({ path: b(path), kind: "link", target: b("/dev/null") });
    else {
      const target = pick(r, [
        "../sysctl.conf",
        "/etc/sysctl.conf",
        "/usr/lib/sysctl.d/50-x.conf",
        "50-x.conf",
      ]);
      entries.push({ path: b(path), kind: "link", target: b(target) });
    }
  }
  const conf = weighted(r, [
    [8, "absent"],
    [10, "file"],
    [1, "dir"],
    [1, "null"],
  ]);
  if (conf === "file")
    entries.push({ path: b("/etc/sysctl.conf"), kind: "file", data: b(content(r)) });
  else if (conf === "dir") entries.push({ path: b("/etc/sysctl.conf"), kind: "dir" });
  else if (conf === "null")
    entries.push({ path: b("/etc/sysctl.conf"), kind: "link", target: b("/dev/null") });
  return entries;
}
