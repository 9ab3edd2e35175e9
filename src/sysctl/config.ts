/**
 * Pure parsing of sysctl.d files, line by line, as each tool does it. The
 * two tools differ, and the differences decide boot values:
 *
 * | | systemd-sysctl 252 (src/sysctl/sysctl.c, parse_file) | procps 4.0.2 `sysctl --system` (sysctl.c, Preload) |
 * |---|---|---|
 * | line ends | `\n`, `\r`, `\r\n`, `\n\r` and NUL (read_line) | `\n` only (getline); a NUL ends the line's text |
 * | trimmed | space, tab, CR, LF | isspace(): also `\v` and `\f` |
 * | `-` then blanks | the blanks are trimmed | kept: ` vm.x` is another key |
 * | `-key` without `=` | cancels an earlier assignment, keeps globs off it | keeps globs off it only |
 * | key form | dots and slashes swap when a dot comes first, then the path is simplified (`vm..x` is `vm/x`, a trailing `.` goes) | the same swap, nothing simplified: the kernel resolves `vm//x`, a trailing `/` fails |
 * | same key twice | the last assignment is the only one written | every assignment is written, in order |
 *
 * Neither strips a UTF-8 byte order mark. Lines are handled as bytes: a
 * "byte string" here is a JS string with one char (0-255) per byte, so that
 * NUL, CR, 0xA0 and invalid UTF-8 stay exactly what the tools see.
 * Checked against the real tools by test/sysctl_differential.test.ts.
 */

/** One char per byte (latin1), for exact byte handling with string methods. */
export type ByteString = string;

/** @example byteString(Buffer.from("a\xff")) */
export function byteString(bytes: Uint8Array): ByteString {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** The bytes of a byte string. */
export function bytesOf(s: ByteString): Buffer {
  return Buffer.from(s, "latin1");
}

/** A byte string as text for people and JSON (invalid UTF-8 shows as U+FFFD). */
export function displayText(s: ByteString): string {
  return bytesOf(s).toString("utf8");
}

/** The key vmaudit manages, in dotted form (for messages and files). */
export const MAX_MAP_COUNT_KEY = "vm.max_map_count";
/** The same key as systemd normalises it. */
export const MAX_MAP_COUNT_PATH_KEY = "vm/max_map_count";
/** The file both tools write. */
export const MAX_MAP_COUNT_PROC_PATH = "/proc/sys/vm/max_map_count";

/** Both tools treat a key holding one of these as a glob (string_is_glob). */
export function isGlob(key: ByteString): boolean {
  return /[*?[]/.test(key);
}

/** One line of a config file that assigns, cancels or excludes a key. */
export interface Directive {
  /** 1-based line number, as the tool counts lines. */
  line: number;
  /** The key as written (after the tool's trimming and any `-`), for messages. */
  rawKey: ByteString;
  /**
   * The key as the tool uses it: systemd's normalised slash form
   * (`vm/max_map_count`), or procps's path (`/proc/sys/vm/max_map_count`).
   */
  key: ByteString;
  /** The value the tool writes (it adds a newline); null for `-key` without `=`. */
  value: ByteString | null;
  /** A leading `-`: a failed write is not an error. */
  ignoreFailure: boolean;
}

// ---- systemd-sysctl 252 ----

/** LONG_LINE_MAX: a longer line makes read_line fail (ENOBUFS) and the rest of the file is skipped. */
const LONG_LINE_MAX = 1024 * 1024;
const EOL_LF = 1;
const EOL_CR = 2;
const EOL_NUL = 4;

function eolKind(c: string): number {
  return c === "\n" ? EOL_LF : c === "\r" ? EOL_CR : c === "\0" ? EOL_NUL : 0;
}

/**
 * The lines systemd's read_line() returns. One line end is a run of end
 * bytes in which each kind (LF, CR, NUL) appears at most once and nothing
 * follows a NUL: `\r\n` and `\n\r` end one line, `\n\n` two.
 * `complete` is false when a line over LONG_LINE_MAX stopped the reading.
 */
export function systemdLines(text: ByteString): { lines: ByteString[]; complete: boolean } {
  const lines: ByteString[] = [];
  let i = 0;
  while (i < text.length) {
    let seen = 0;
    const start = i;
    let end = i;
    for (; i < text.length; i++) {
      const eol = eolKind(text[i] ?? "");
      if (seen & EOL_NUL || (eol === 0 && seen !== 0) || (eol !== 0 && seen & eol)) break;
      if (eol !== 0) {
        seen |= eol;
        continue;
      }
      end = i + 1;
      if (end - start > LONG_LINE_MAX) return { lines, complete: false };
    }
    lines.push(text.slice(start, seen === 0 ? i : end));
  }
  return { lines, complete: true };
}

/** systemd's strstrip(): WHITESPACE is space, tab, LF and CR. */
function systemdStrip(s: ByteString): ByteString {
  return s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "");
}

/**
 * systemd's path_simplify(): no repeated, inner `.` or trailing slashes
 * (a leading slash stays; `..` stays).
 */
function pathSimplify(s: ByteString): ByteString {
  const absolute = s.startsWith("/");
  const parts = s.split("/").filter((p) => p !== "" && p !== ".");
  const joined = parts.join("/");
  if (absolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/**
 * systemd's sysctl_normalize(): when the first separator is a dot, dots and
 * slashes swap; then the path is simplified and a leading slash dropped.
 *
 * @example
 * systemdNormalizeKey("vm.max_map_count"); // "vm/max_map_count"
 * systemdNormalizeKey("net/ipv4/conf/eth0.100/rp_filter"); // unchanged
 */
export function systemdNormalizeKey(key: ByteString): ByteString {
  const first = /[./]/.exec(key)?.[0];
  const swapped = first === "." ? key.replace(/[./]/g, (c) => (c === "." ? "/" : ".")) : key;
  const simple = pathSimplify(swapped);
  return simple.startsWith("/") && simple.length > 1 ? simple.slice(1) : simple;
}

/**
 * The directives systemd-sysctl reads from a file's bytes.
 *
 * @example
 * parseSystemdConfig("- vm.max_map_count = 262144\r-vm.max_map_count\n")
 * // [{ line: 1, key: "vm/max_map_count", value: "262144", ... }, { line: 2, key: "vm/max_map_count", value: null, ... }]
 */
export function parseSystemdConfig(text: ByteString): {
  directives: Directive[];
  complete: boolean;
} {
  const { lines, complete } = systemdLines(text);
  const directives: Directive[] = [];
  lines.forEach((l, i) => {
    let p = systemdStrip(l);
    if (p === "" || p[0] === "#" || p[0] === ";") return;
    const eq = p.indexOf("=");
    let ignoreFailure = false;
    let value: ByteString | null = null;
    if (eq >= 0) {
      value = systemdStrip(p.slice(eq + 1));
      p = p.slice(0, eq);
      if (p[0] === "-") {
        ignoreFailure = true;
        p = p.slice(1);
      }
    } else if (p[0] === "-") {
      // A "negative match": no value; cancels an earlier assignment.
      p = p.slice(1);
    } else {
      return; // "Line is not an assignment, ignoring"
    }
    const rawKey = systemdStrip(p);
    directives.push({
      line: i + 1,
      rawKey,
      key: systemdNormalizeKey(rawKey),
      value,
      ignoreFailure,
    });
  });
  return { directives, complete };
}

// ---- procps 4.0.2 ----

/** isspace() in the C locale: space, \t, \n, \v, \f, \r. */
const C_SPACE = /[ \t\n\v\f\r]/;

function lstrip(s: ByteString): ByteString {
  return s.replace(/^[ \t\n\v\f\r]+/, "");
}

/** procps's rstrip() never empties a string: it stops at the first byte. */
function rstrip(s: ByteString): ByteString {
  let end = s.length - 1;
  while (end > 0 && C_SPACE.test(s[end] ?? "")) end--;
  return s.slice(0, end + 1);
}

/**
 * procps's slashdot(): when the first separator is a dot, dots and slashes
 * swap. Nothing else changes.
 */
function slashdot(key: ByteString): ByteString {
  const first = /[./]/.exec(key)?.[0];
  return first === "." ? key.replace(/[./]/g, (c) => (c === "." ? "/" : ".")) : key;
}

/**
 * The /proc/sys path procps opens for a key: one more leading `-` is
 * dropped (setting_new), then slashdot.
 *
 * @example
 * procpsKeyPath("vm..max_map_count"); // "/proc/sys/vm//max_map_count"
 */
export function procpsKeyPath(key: ByteString): ByteString {
  return `/proc/sys/${slashdot(key.startsWith("-") ? key.slice(1) : key)}`;
}

/**
 * The directives procps reads from a file's bytes. Lines end at `\n` only;
 * a NUL ends the text of its line (C strings).
 *
 * @example
 * parseProcpsConfig("vm.max_map_count = 262144\rvm.max_map_count = 1\n")[0].value;
 * // "262144\rvm.max_map_count = 1": one line
 */
export function parseProcpsConfig(text: ByteString): Directive[] {
  const directives: Directive[] = [];
  const raw = text.split("\n");
  // getline(): a final piece without "\n" is a line only when it is not empty.
  if (raw.at(-1) === "") raw.pop();
  raw.forEach((piece, i) => {
    const full = i < raw.length - 1 || text.endsWith("\n") ? `${piece}\n` : piece;
    if (full.length < 2) return;
    const nul = full.indexOf("\0");
    const line = nul >= 0 ? full.slice(0, nul) : full;
    let key = lstrip(line);
    if (key.length < 2 || key[0] === "#" || key[0] === ";") return;
    const eq = key.indexOf("=");
    let value: ByteString | null = null;
    let ignoreFailure = false;
    if (eq < 0) {
      if (key[0] !== "-") return; // "invalid syntax, continuing..."
      key = rstrip(key.slice(1));
    } else {
      value = rstrip(lstrip(key.slice(eq + 1)));
      key = key.slice(0, eq);
      if (key[0] === "-") {
        ignoreFailure = true;
        key = key.slice(1);
      }
      key = rstrip(key);
    }
    directives.push({ line: i + 1, rawKey: key, key: procpsKeyPath(key), value, ignoreFailure });
  });
  return directives;
}
