/**
 * glibc's glob(3) and fnmatch(3), as far as the sysctl tools use them, over
 * byte strings (see config.ts). Pure.
 *
 * - Both tools glob a key holding `*`, `?` or `[` against /proc/sys
 *   (systemd apply_all, procps write_setting_list); `globProcSys` answers
 *   which of the results is vm.max_map_count, and as what string (procps
 *   compares that string with its other keys' paths).
 * - procps also globs each config file's own path before opening it
 *   (Preload: GLOB_NOCHECK | GLOB_BRACE), so a file named `5*.conf` reads
 *   every matching file of its directory; `expandConfPath` does that.
 *
 * Byte order is the C locale's (strcmp), as at boot.
 */
import type { ByteString } from "./config.ts";

/** __glob_pattern_type: 1 magic, 2 has backslashes to remove, 4 a `[` without `]`, 0 plain. */
function patternType(p: ByteString): number {
  let ret = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "?" || c === "*") return 1;
    if (c === "\\") {
      if (i + 1 < p.length) i++;
      ret |= 2;
    } else if (c === "[") {
      ret |= 4;
    } else if (c === "]" && ret & 4) {
      return 1;
    }
  }
  return ret;
}

/** Remove backslash escapes (a trailing backslash stays). */
function removeEscapes(p: ByteString): ByteString {
  return p.replace(/\\(.)/gs, "$1");
}

const inRange = (c: number, lo: string, hi: string) =>
  c >= lo.charCodeAt(0) && c <= hi.charCodeAt(0);
/** The POSIX classes of the C locale, by byte. */
const CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => inRange(c, "A", "Z") || inRange(c, "a", "z") || inRange(c, "0", "9"),
  alpha: (c) => inRange(c, "A", "Z") || inRange(c, "a", "z"),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: (c) => inRange(c, "0", "9"),
  graph: (c) => c > 0x20 && c < 0x7f,
  lower: (c) => inRange(c, "a", "z"),
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) =>
    c > 0x20 && c < 0x7f && !(inRange(c, "A", "Z") || inRange(c, "a", "z") || inRange(c, "0", "9")),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: (c) => inRange(c, "A", "Z"),
  xdigit: (c) => inRange(c, "0", "9") || inRange(c, "a", "f") || inRange(c, "A", "F"),
};

/**
 * Match a bracket expression at `p[i]` (just after `[`) against `c`.
 * Returns the index after `]` and whether it matched, or undefined when
 * there is no closing `]` (then `[` is an ordinary character).
 */
function bracket(p: ByteString, i: number, c: string): { next: number; ok: boolean } | undefined {
  let negate = false;
  if (p[i] === "!" || p[i] === "^") {
    negate = true;
    i++;
  }
  let ok = false;
  let first = true;
  for (;;) {
    if (i >= p.length) return undefined;
    let lo = p[i] ?? "";
    if (lo === "]" && !first) return { next: i + 1, ok: ok !== negate };
    first = false;
    if (lo === "[" && p[i + 1] === ":") {
      const end = p.indexOf(":]", i + 2);
      if (end >= 0) {
        const cls = CLASSES[p.slice(i + 2, end)];
        if (!cls) return undefined;
        if (cls(c.charCodeAt(0))) ok = true;
        i = end + 2;
        continue;
      }
    }
    if (lo === "\\") {
      i++;
      if (i >= p.length) return undefined;
      lo = p[i] ?? "";
    }
    i++;
    let hi = lo;
    if (p[i] === "-" && p[i + 1] !== undefined && p[i + 1] !== "]") {
      hi = p[i + 1] ?? "";
      i += 2;
      if (hi === "\\") {
        if (i >= p.length) return undefined;
        hi = p[i] ?? "";
        i++;
      }
    }
    if (c >= lo && c <= hi) ok = true;
  }
}

/**
 * fnmatch(pattern, name, FNM_PERIOD): `*`, `?`, brackets (`!`/`^`, ranges,
 * `[:class:]`), backslash escapes; a leading `.` of the name only matches a
 * literal `.`.
 *
 * @example
 * fnmatch("max_map_*", "max_map_count"); // true
 * fnmatch("*.conf", ".hidden.conf"); // false
 */
export function fnmatch(pattern: ByteString, name: ByteString): boolean {
  const match = (pi: number, ni: number): boolean => {
    while (pi < pattern.length) {
      const c = pattern[pi] ?? "";
      const leadingDot = ni === 0 && name[0] === ".";
      if (c === "*") {
        if (leadingDot) return false;
        while (pattern[pi] === "*") pi++;
        if (pi === pattern.length) return true;
        for (let k = ni; k <= name.length; k++) if (match(pi, k)) return true;
        return false;
      }
      if (ni >= name.length) return false;
      const n = name[ni] ?? "";
      if (c === "?") {
        if (leadingDot) return false;
      } else if (c === "[") {
        const b = bracket(pattern, pi + 1, n);
        if (b) {
          if (leadingDot || !b.ok) return false;
          pi = b.next;
          ni++;
          continue;
        }
        if (n !== "[") return false;
      } else if (c === "\\") {
        pi++;
        // "Trailing \ loses."
        if (pi >= pattern.length || pattern[pi] !== n) return false;
      } else if (c !== n) {
        return false;
      }
      pi++;
      ni++;
    }
    return ni === name.length;
  };
  return match(0, 0);
}

// ---- glob over /proc/sys ----

type Node = { kind: "dir"; children: Record<string, Node> } | { kind: "file" };

/**
 * The part of /proc/sys that matters: vm/max_map_count, and the usual top
 * directories so that `kernel/../vm/max_map_count` resolves as it does on a
 * real system.
 */
const TOP_DIRS = ["abi", "crypto", "debug", "dev", "fs", "kernel", "net", "user"] as const;
/** The same directories, for a fake /proc/sys (the differential test makes them). */
export const PROC_SYS_DIRS: readonly string[] = [...TOP_DIRS, "vm"];
const TARGET: Node = { kind: "file" };
const ROOT: Node = {
  kind: "dir",
  children: {
    proc: {
      kind: "dir",
      children: {
        sys: {
          kind: "dir",
          children: {
            ...Object.fromEntries(TOP_DIRS.map((d) => [d, { kind: "dir", children: {} } as Node])),
            vm: { kind: "dir", children: { max_map_count: TARGET } },
          },
        },
      },
    },
  },
};

/** The kernel's path walk: empty and `.` components skipped, `..` goes up, a trailing `/` needs a directory. */
function resolve(path: ByteString): Node | undefined {
  const stack: Node[] = [ROOT];
  const parts = path.split("/");
  for (const part of parts) {
    const cur = stack.at(-1);
    if (cur?.kind !== "dir") return undefined;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const next = cur.children[part];
    if (!next) return undefined;
    stack.push(next);
  }
  const last = stack.at(-1);
  if (path.endsWith("/") && last?.kind !== "dir") return undefined;
  return last;
}

/** The result strings glob(3) gives for an absolute pattern, in the virtual /proc/sys. */
function glob(pattern: ByteString, mark: boolean, onlyDir: boolean): ByteString[] {
  const slash = pattern.lastIndexOf("/");
  if (slash < 0) return [];
  const dirname = slash === 0 ? "/" : pattern.slice(0, slash);
  const filename = pattern.slice(slash + 1);
  // "pattern/": expand "pattern" to directories only, marked with a slash.
  if (filename === "" && slash > 0) return glob(dirname, true, true);
  const dirs =
    patternType(dirname) === 1
      ? glob(dirname, false, true)
      : [patternType(dirname) & 2 ? removeEscapes(dirname) : dirname];
  const out: ByteString[] = [];
  for (const d of dirs) {
    const dir = resolve(d);
    if (dir?.kind !== "dir") continue;
    let names: string[];
    if (patternType(filename) === 1) {
      names = Object.keys(dir.children)
        .filter((n) => fnmatch(filename, n))
        .sort();
    } else {
      const n = patternType(filename) & 2 ? removeEscapes(filename) : filename;
      names = resolve(`${d}/${n}`) ? [n] : [];
    }
    for (const n of names) {
      const full = `${d === "/" ? "" : d}/${n}`;
      const node = resolve(full);
      if (onlyDir && node?.kind !== "dir") continue;
      out.push(mark && node?.kind === "dir" ? `${full}/` : full);
    }
  }
  return out;
}

/**
 * The strings glob(3) returns for a /proc/sys pattern that name
 * vm.max_map_count (usually one; none when the pattern misses it).
 *
 * @example
 * globProcSys("/proc/sys/vm/max_map_*"); // ["/proc/sys/vm/max_map_count"]
 * globProcSys("/proc/sys/vm//max_*"); // ["/proc/sys/vm//max_map_count"]
 */
export function globProcSys(pattern: ByteString): ByteString[] {
  return glob(pattern, false, false).filter((r) => resolve(r) === TARGET);
}

/** Whether a /proc/sys path (no glob) names vm.max_map_count, as the kernel resolves it. */
export function isMaxMapCountPath(path: ByteString): boolean {
  return resolve(path) === TARGET;
}

// ---- procps: the glob of a config file's path ----

/** glibc's next_brace_sub: the end of one brace alternative, or -1. */
function nextBraceSub(p: ByteString, i: number): number {
  let depth = 0;
  while (i < p.length) {
    const c = p[i];
    if (c === "\\") {
      i++;
      if (i >= p.length) break;
      i++;
      continue;
    }
    if ((c === "}" && depth-- === 0) || (c === "," && depth === 0)) break;
    if (p[i++] === "{") depth++;
  }
  return i < p.length ? i : -1;
}

/** The first unescaped `{`, or -1. */
function braceStart(p: ByteString): number {
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "\\" && i + 1 < p.length) i++;
    else if (p[i] === "{") return i;
  }
  return -1;
}

/** Brace alternatives of a name, or undefined when it has no well-formed brace expression. */
function braceAlternatives(name: ByteString): ByteString[] | undefined {
  const begin = braceStart(name);
  if (begin < 0) return undefined;
  let next = nextBraceSub(name, begin + 1);
  if (next < 0) return undefined;
  let rest = next;
  while (name[rest] !== "}") {
    rest = nextBraceSub(name, rest + 1);
    if (rest < 0) return undefined;
  }
  const prefix = name.slice(0, begin);
  const suffix = name.slice(rest + 1);
  const alts: ByteString[] = [];
  let p = begin + 1;
  for (;;) {
    alts.push(prefix + name.slice(p, next) + suffix);
    if (name[next] === "}") break;
    p = next + 1;
    next = nextBraceSub(name, p);
  }
  return alts;
}

function byteOrder(a: ByteString, b: ByteString): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** glob of one name in one directory, without GLOB_NOCHECK. */
function globName(name: ByteString, names: readonly ByteString[]): ByteString[] {
  const alts = braceAlternatives(name);
  if (alts) return alts.flatMap((a) => globName(a, names));
  const type = patternType(name);
  if (type === 1) return names.filter((n) => fnmatch(name, n)).sort(byteOrder);
  const plain = type & 2 ? removeEscapes(name) : name;
  return names.includes(plain) ? [plain] : [];
}

/**
 * The names procps opens for the config file `name` of a directory whose
 * entries are `names`: glob(dir/name, GLOB_NOCHECK | GLOB_BRACE). Usually
 * just `name`; `5*.conf` also opens `50-x.conf`, `{a,b}.conf` opens `a.conf`
 * and `b.conf` (and not itself), and a pattern that matches nothing opens
 * itself.
 *
 * @example
 * expandConfName("5*.conf", ["5*.conf", "50-x.conf", "60-y.conf"]); // ["5*.conf", "50-x.conf"]
 */
export function expandConfName(name: ByteString, names: readonly ByteString[]): ByteString[] {
  const found = globName(name, names);
  return found.length > 0 ? found : [name];
}
