/**
 * Hand-made config trees for the differential test, one line per case:
 * each names one way the two tools, or the kernel, read config. Paths are
 * target-system paths; strings are bytes (one char per byte, so "\xff" is
 * the byte 0xFF, not UTF-8).
 */
import type { TreeEntry } from "./sysctl_oracle.ts";

const DIR = { dir: true } as const;
const link = (target: string) => ({ link: target });
type Spec = Record<string, string | typeof DIR | { link: string }>;

const LONG = `#${"x".repeat(1024 * 1024 + 10)}\n`;

export const HAND_CASES: [string, Spec][] = [
  // The examples: the kernel's integer parsing.
  ["kernel: trailing comment", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144 # es\n" }],
  ["kernel: trailing word", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144 abc\n" }],
  ["kernel: glued garbage", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144abc\n" }],
  ["kernel: hex", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 0x40000\n" }],
  ["kernel: octal", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 0100000\n" }],
  ["kernel: bad octal", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 0800000\n" }],
  ["kernel: leading NBSP", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = \xa0262144\n" }],
  ["kernel: INT_MAX + 1", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 2147483648\n" }],
  ["kernel: minus zero", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = -0\n" }],
  [
    "kernel: 21 digits",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 000000000000000262144\n" },
  ],
  [
    "kernel: 20 digits, octal",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 00000000000000262144\n" },
  ],
  // Entries that hide a vendor file without setting anything.
  [
    "a directory in /etc hides /usr/lib",
    {
      "/etc/sysctl.d/50-a.conf": DIR,
      "/usr/lib/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n",
    },
  ],
  [
    "a link to a directory hides",
    {
      "/etc/sysctl.d/50-a.conf": link("/usr/lib"),
      "/usr/lib/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n",
    },
  ],
  [
    "a link loop hides",
    {
      "/etc/sysctl.d/50-a.conf": link("50-a.conf"),
      "/usr/lib/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n",
    },
  ],
  [
    "99-sysctl.conf linked to a missing sysctl.conf hides the vendor one",
    {
      "/etc/sysctl.d/99-sysctl.conf": link("../sysctl.conf"),
      "/usr/lib/sysctl.d/99-sysctl.conf": "vm.max_map_count = 262144\n",
    },
  ],
  [
    "/etc, /run, /usr/local/lib, /usr/lib in order",
    {
      "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 100000\n",
      "/run/sysctl.d/50-a.conf": "vm.max_map_count = 200000\n",
      "/usr/local/lib/sysctl.d/50-a.conf": "vm.max_map_count = 300000\n",
      "/usr/lib/sysctl.d/50-a.conf": "vm.max_map_count = 400000\n",
      "/run/sysctl.d/60-b.conf": "vm.max_map_count = 500000\n",
      "/usr/local/lib/sysctl.d/60-b.conf": "vm.max_map_count = 600000\n",
    },
  ],
  [
    "elasticsearch.conf sorts after 90-*",
    {
      "/usr/lib/sysctl.d/elasticsearch.conf": "vm.max_map_count=262144\n",
      "/etc/sysctl.d/90-vm_max_map_count.conf": "vm.max_map_count = 120000\n",
    },
  ],
  [
    "/etc/sysctl.conf is a /dev/null link",
    {
      "/etc/sysctl.conf": link("/dev/null"),
      "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n",
    },
  ],
  [
    "ignore-failure assignment",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n-vm.max_map_count = 300000\n" },
  ],
  [
    "a line over 1 MiB stops systemd reading the file",
    { "/etc/sysctl.d/50-a.conf": `vm.max_map_count = 300000\n${LONG}vm.max_map_count = 400000\n` },
  ],
  ["kernel/../vm", { "/etc/sysctl.d/50-a.conf": "kernel/../vm/max_map_count = 262144\n" }],
  ["plain", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n" }],
  [
    "hidden",
    {
      "/etc/sysctl.d/.x.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/.conf": "vm.max_map_count = 222222\n",
    },
  ],
  [
    "cancel",
    {
      "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n",
      "/etc/sysctl.d/60-a.conf": "-vm.max_map_count\n",
    },
  ],
  [
    "cancel-before",
    {
      "/etc/sysctl.d/40-a.conf": "-vm.max_map_count\n",
      "/etc/sysctl.d/60-a.conf": "vm.max_map_count = 300000\n",
    },
  ],
  ["glob", { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\nvm.* = 300000\n" }],
  [
    "glob-explicit-first",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 400000\nvm.max_map_* = 262144\n" },
  ],
  ["glob-excl", { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\n-vm.max_map_count\n" }],
  ["glob-excl-glob", { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\n-vm.max_*\n" }],
  [
    "cr-only",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\rvm.max_map_count = 300000\r" },
  ],
  ["crlf", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\r\n" }],
  [
    "nul",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\x00vm.max_map_count = 300000\n" },
  ],
  ["bom", { "/etc/sysctl.d/50-a.conf": "\xef\xbb\xbfvm.max_map_count = 262144\n" }],
  ["nonutf8-name", { "/etc/sysctl.d/50-\xff.conf": "vm.max_map_count = 262144\n" }],
  ["dash-space", { "/etc/sysctl.d/50-a.conf": "- vm.max_map_count = 262144\n" }],
  ["dashdash", { "/etc/sysctl.d/50-a.conf": "--vm.max_map_count = 262144\n" }],
  ["trail-dot", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count. = 262144\n" }],
  ["double-dot", { "/etc/sysctl.d/50-a.conf": "vm..max_map_count = 262144\n" }],
  ["lead-dot", { "/etc/sysctl.d/50-a.conf": ".vm.max_map_count = 262144\n" }],
  ["vf", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\f\n" }],
  ["empty", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count =\n" }],
  [
    "dangling",
    {
      "/etc/sysctl.d/50-a.conf": link("/nowhere"),
      "/usr/lib/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n",
    },
  ],
  [
    "devnull",
    {
      "/etc/sysctl.d/50-a.conf": link("/dev/null"),
      "/usr/lib/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n",
    },
  ],
  [
    "sysctl.conf",
    {
      "/etc/sysctl.conf": "vm.max_map_count = 262144\n",
      "/etc/sysctl.d/99-sysctl.conf": link("../sysctl.conf"),
    },
  ],
  ["sysctl.conf-dir", { "/etc/sysctl.conf": DIR }],
  [
    "sysctl.conf-link",
    { "/etc/sysctl.conf": link("sysctl.d/x"), "/etc/sysctl.d/x": "vm.max_map_count = 262144\n" },
  ],
  [
    "glob-then-explicit",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\nvm.max_map_count = 400000\n" },
  ],
  [
    "glob-then-explicit-dd",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\nvm..max_map_count = 400000\n" },
  ],
  ["glob-dd", { "/etc/sysctl.d/50-a.conf": "vm..max_map_* = 262144\nvm.max_map_count = 400000\n" }],
  ["glob-dd-alone", { "/etc/sysctl.d/50-a.conf": "vm..max_map_* = 262144\n" }],
  ["glob-dd-excl", { "/etc/sysctl.d/50-a.conf": "vm..max_map_* = 262144\n-vm.max_map_count\n" }],
  ["excl-dd", { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\n-vm..max_map_count\n" }],
  ["excl-slash", { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\n-vm/max_map_count\n" }],
  [
    "glob-order1",
    {
      "/etc/sysctl.d/50-a.conf": "vm.* = 300000\nvm.max_* = 400000\n",
      "/etc/sysctl.d/60-a.conf": "vm.* = 300000\n",
    },
  ],
  [
    "glob-order2",
    {
      "/etc/sysctl.d/50-a.conf": "vm.* = 300000\nvm.max_* = 400000\n",
      "/etc/sysctl.d/60-a.conf": "vm.* = 500000\n",
    },
  ],
  ["glob-brackets", { "/etc/sysctl.d/50-a.conf": "vm.max_map_coun[t] = 262144\n" }],
  ["glob-q", { "/etc/sysctl.d/50-a.conf": "vm.max_map_coun? = 262144\n" }],
  ["glob-star-first", { "/etc/sysctl.d/50-a.conf": "*.max_map_count = 262144\n" }],
  ["glob-star-cross", { "/etc/sysctl.d/50-a.conf": "v*count = 262144\n" }],
  ["glob-self", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count* = 262144\n" }],
  ["glob-slash", { "/etc/sysctl.d/50-a.conf": "vm/max_map_* = 262144\n" }],
  ["glob-slash-dot", { "/etc/sysctl.d/50-a.conf": "vm/max_map.* = 262144\n" }],
  ["backslash", { "/etc/sysctl.d/50-a.conf": "vm.max_map_coun\\t = 262144\n" }],
  ["glob-backslash", { "/etc/sysctl.d/50-a.conf": "vm.max_map_co?n\\t = 262144\n" }],
  ["glob-neg-bracket", { "/etc/sysctl.d/50-a.conf": "vm.max_map_coun[!x] = 262144\n" }],
  ["glob-caret-bracket", { "/etc/sysctl.d/50-a.conf": "vm.max_map_coun[^x] = 262144\n" }],
  ["glob-range", { "/etc/sysctl.d/50-a.conf": "vm.max_map_coun[a-z] = 262144\n" }],
  ["glob-class", { "/etc/sysctl.d/50-a.conf": "vm.max_map_coun[[:alpha:]] = 262144\n" }],
  ["glob-unclosed", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count[ = 262144\n" }],
  ["glob-ign", { "/etc/sysctl.d/50-a.conf": "-vm.max_map_* = 262144\n" }],
  ["ws-vt-key", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count\v = 262144\n" }],
  ["ws-ff-lead", { "/etc/sysctl.d/50-a.conf": "\fvm.max_map_count = 262144\n" }],
  ["ws-tab-val", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count =\t\v262144\n" }],
  ["comment-ff", { "/etc/sysctl.d/50-a.conf": "\f# vm.max_map_count = 262144\n" }],
  ["eq-in-val", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 300000 = 6\n" }],
  ["no-eq-dash-glob", { "/etc/sysctl.d/50-a.conf": "vm.max_* = 262144\n- vm.max_map_count\n" }],
  [
    "cancel-with-eq",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n-vm.max_map_count =\n" },
  ],
  [
    "cancel-then-glob",
    {
      "/etc/sysctl.d/50-a.conf":
        "vm.max_map_count = 262144\n-vm.max_map_count\nvm.max_* = 300000\n",
    },
  ],
  ["ws-only-val", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count =   \n" }],
  ["one-char-line", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count=262144" }],
  [
    "lf-cr",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\n\rvm.max_map_count = 300000\n" },
  ],
  [
    "cr-nul",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\r\x00vm.max_map_count = 300000\n" },
  ],
  ["nul-in-val", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 2621\x0044\n" }],
  ["high-bytes-ws", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144\xa0\n" }],
  ["val-trailing-tab-cr", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count = 262144 \t\r\n" }],
  [
    "name-star",
    {
      "/etc/sysctl.d/5*.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/50-b.conf": "vm.max_map_count = 222222\n",
      "/etc/sysctl.d/40-c.conf": "vm.max_map_count = 333333\n",
    },
  ],
  ["name-star-nomatch-other", { "/etc/sysctl.d/9*.conf": "vm.max_map_count = 111111\n" }],
  [
    "name-q",
    {
      "/etc/sysctl.d/?0.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/a0.conf": "vm.max_map_count = 222222\n",
    },
  ],
  [
    "name-brace",
    {
      "/etc/sysctl.d/{a,b}.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/b.conf": "vm.max_map_count = 222222\n",
    },
  ],
  ["name-brace-none", { "/etc/sysctl.d/{x,y}.conf": "vm.max_map_count = 111111\n" }],
  [
    "name-bracket",
    {
      "/etc/sysctl.d/[ab].conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/a.conf": "vm.max_map_count = 222222\n",
    },
  ],
  [
    "name-backslash",
    {
      "/etc/sysctl.d/\\a.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/a.conf": "vm.max_map_count = 222222\n",
    },
  ],
  [
    "name-backslash2",
    {
      "/etc/sysctl.d/\\*.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/a.conf": "vm.max_map_count = 222222\n",
    },
  ],
  ["name-tilde", { "/etc/sysctl.d/~root.conf": "vm.max_map_count = 111111\n" }],
  [
    "name-star-hidden",
    {
      "/etc/sysctl.d/*.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/.h.conf": "vm.max_map_count = 222222\n",
    },
  ],
  [
    "name-star-usr",
    {
      "/usr/lib/sysctl.d/*.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/z.conf": "vm.max_map_count = 222222\n",
      "/usr/lib/sysctl.d/y.conf": "vm.max_map_count = 333333\n",
    },
  ],
  [
    "name-star-dir",
    {
      "/etc/sysctl.d/*.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/a.conf": DIR,
      "/etc/sysctl.d/b.conf": "vm.max_map_count = 222222\n",
    },
  ],
  [
    "name-star-dangling",
    {
      "/etc/sysctl.d/*.conf": "vm.max_map_count = 111111\n",
      "/etc/sysctl.d/a.conf": link("/nowhere"),
      "/etc/sysctl.d/b.conf": "vm.max_map_count = 222222\n",
    },
  ],
  ["sd-dot-comp", { "/etc/sysctl.d/50-a.conf": "vm/./max_map_count = 262144\n" }],
  ["sd-dotdot", { "/etc/sysctl.d/50-a.conf": "vm/../vm/max_map_count = 262144\n" }],
  ["sd-slash-lead", { "/etc/sysctl.d/50-a.conf": "/vm/max_map_count = 262144\n" }],
  ["sd-slash-trail", { "/etc/sysctl.d/50-a.conf": "vm/max_map_count/ = 262144\n" }],
  ["glob-dotcomp", { "/etc/sysctl.d/50-a.conf": "vm/./max_map_* = 262144\n" }],
  [
    "glob-dd-dir",
    { "/etc/sysctl.d/50-a.conf": "v*//max_map_count = 262144\nvm.max_map_count = 300000\n" },
  ],
  [
    "glob-dir-star",
    { "/etc/sysctl.d/50-a.conf": "*/max_map_count = 262144\nvm.max_map_count = 300000\n" },
  ],
  ["glob-backslash-lit-last", { "/etc/sysctl.d/50-a.conf": "*.max_map_coun\\t = 262144\n" }],
  [
    "glob-backslash-lit-dir",
    { "/etc/sysctl.d/50-a.conf": "v\\m.max_map_* = 262144\nvm.max_map_count = 300000\n" },
  ],
  ["trailing-backslash", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count*\\ = 262144\n" }],
  ["bracket-slash", { "/etc/sysctl.d/50-a.conf": "vm[/]max_map_count = 262144\n" }],
  ["glob-lead-dot-key", { "/etc/sysctl.d/50-a.conf": ".vm.max_map_* = 262144\n" }],
  [
    "sd-two-globs-same-pattern",
    { "/etc/sysctl.d/50-a.conf": "vm.max_map_* = 262144\nvm/max_map_* = 300000\n" },
  ],
  ["glob-trailing-slash", { "/etc/sysctl.d/50-a.conf": "vm/max_map_count*/ = 262144\n" }],
  ["glob-trailing-dot", { "/etc/sysctl.d/50-a.conf": "vm.max_map_count*. = 262144\n" }],
  ["glob-dir-trailing", { "/etc/sysctl.d/50-a.conf": "vm/*/ = 262144\n" }],
];

const b = (s: string) => Buffer.from(s, "latin1");

/** A hand case as entries for `makeOracleRoot`. */
export function handEntries(spec: Spec): TreeEntry[] {
  return Object.entries(spec).map(([path, v]): TreeEntry => {
    if (typeof v === "string") return { path: b(path), kind: "file", data: b(v) };
    if ("dir" in v) return { path: b(path), kind: "dir" };
    return { path: b(path), kind: "link", target: b(v.link) };
  });
}
