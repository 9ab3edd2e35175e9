/**
 * Group processes into applications from their argv. Pure.
 *
 * Wrappers are looked through (Flatpak's bwrap, zypak-helper), interpreters
 * are named by their script, Electron apps by their .asar or profile
 * directory, and Wine apps by their .exe.
 *
 * A name ending in `.exe` alone does not make a Wine app: npm's `bun`
 * package installs a native Linux `bun.exe`. Wine is recognised by a
 * Windows path (`C:\...`, `Z:/...`, `\\server\...`) or by the process's
 * executable (/proc/PID/exe) being one of Wine's loaders.
 */
import { prefixWithin } from "./graphemes.ts";

export type AppKind = "plain" | "python" | "electron" | "electron-helper" | "wine";

export interface AppName {
  name: string;
  kind: AppKind;
}

const PYTHON = /^python(\d+(\.\d+)*)?$/;
/** Python options that take the next argument as their value. */
const PYTHON_VALUE_OPTIONS = new Set(["-W", "-X", "--check-hash-based-pycs"]);
const DRIVE = /^[A-Za-z]:\\/;
/** A Windows path: a drive letter with either slash, or a UNC name. */
const WINDOWS_PATH = /^(?:[A-Za-z]:[\\/]|\\\\)/;
/**
 * What /proc/PID/exe of a Wine process points to: wine64-preloader or
 * wine-preloader (Wine up to 9, Proton), or wine/wine64 itself (no preloader,
 * the new WoW64 mode).
 */
const WINE_LOADER = /^wine(?:64)?(?:-preloader)?$/;
const EXE_NAME = /\.exe$/i;
/** In UTF-16 units, cut between grapheme clusters (never half an emoji). */
const CODE_LABEL_MAX = 40;

function basename(path: string): string {
  const i = path.lastIndexOf("/");
  return i === -1 ? path : path.slice(i + 1);
}

/**
 * Some containers put the whole command line in one argv string. Split it the
 * way a human would read it, so the rules below see a program name.
 */
function splitSingleString(arg: string): string[] {
  if (DRIVE.test(arg)) {
    const m = /\.exe/i.exec(arg);
    if (m) {
      const end = m.index + m[0].length;
      const rest = arg.slice(end).trim();
      return rest ? [arg.slice(0, end), ...rest.split(/\s+/)] : [arg.slice(0, end)];
    }
    return [arg];
  }
  const flag = / -{1,2}[A-Za-z]/.exec(arg);
  if (flag) return [arg.slice(0, flag.index), ...arg.slice(flag.index + 1).split(/\s+/)];
  return [arg];
}

function afterSeparator(argv: string[], separator: string): string[] | undefined {
  const i = argv.indexOf(separator, 1);
  return i === -1 || i === argv.length - 1 ? undefined : argv.slice(i + 1);
}

function pythonApp(argv: string[]): AppName | undefined {
  const interp = basename(argv[0] ?? "");
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-c") {
      const firstLine = (argv[i + 1] ?? "").split("\n")[0]?.trim() ?? "";
      const label =
        firstLine.length > CODE_LABEL_MAX
          ? `${prefixWithin(firstLine, CODE_LABEL_MAX)}…`
          : firstLine;
      return { name: `${interp} -c '${label}'`, kind: "python" };
    }
    if (arg === "-m") {
      const mod = argv[i + 1];
      return mod ? { name: mod, kind: "python" } : undefined;
    }
    if (PYTHON_VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (arg === "-" || !arg.startsWith("-")) return { name: arg, kind: "python" };
  }
  return undefined;
}

function asarApp(argv: string[]): AppName | undefined {
  for (const arg of argv) {
    if (!arg.includes(".asar")) continue;
    const eq = arg.startsWith("-") ? arg.indexOf("=") : -1;
    return { name: eq === -1 ? arg : arg.slice(eq + 1), kind: "electron" };
  }
  return undefined;
}

function electronHelper(argv: string[]): AppName | undefined {
  if (argv[0] !== "/proc/self/exe") return undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg.startsWith("--user-data-dir=")) {
      return {
        name: `${arg.slice("--user-data-dir=".length)} (electron helper)`,
        kind: "electron-helper",
      };
    }
    if (arg === "--user-data-dir" && argv[i + 1]) {
      return { name: `${argv[i + 1]} (electron helper)`, kind: "electron-helper" };
    }
  }
  return undefined;
}

/**
 * Whether `exe`, the target of /proc/PID/exe, is one of Wine's loaders. The
 * kernel appends " (deleted)" when the file was replaced (a Wine upgrade).
 *
 * @example
 * isWineLoader("/usr/lib/wine/wine64-preloader"); // true
 * isWineLoader("/home/u/node_modules/bun/bin/bun.exe"); // false
 */
export function isWineLoader(exe: string | undefined): boolean {
  return exe !== undefined && WINE_LOADER.test(basename(exe.replace(/ \(deleted\)$/, "")));
}

/**
 * Whether telling Wine from a native program needs /proc/PID/exe: some
 * argument ends in `.exe`. Scanners read the link only then, which keeps the
 * common case at no extra system call.
 *
 * @example
 * exeNeededForApp(["/usr/bin/bash"]); // false
 * exeNeededForApp(["/opt/bin/bun.exe", "x.ts"]); // true
 */
export function exeNeededForApp(argv: readonly string[]): boolean {
  return argv.some((a) => /\.exe(?:\s|$)/i.test(a));
}

/**
 * The application a command line belongs to. `exe` is where /proc/PID/exe
 * points, when known (see `exeNeededForApp`): it tells a Wine app named
 * `game.exe` from a native `bun.exe`.
 *
 * @example
 * detectApp(["/usr/bin/python3", "-u", "/opt/app/server.py"]); // { name: "/opt/app/server.py", kind: "python" }
 * detectApp(["C:\\Games\\game.exe"]); // { name: "C:\\Games\\game.exe", kind: "wine" }
 * detectApp(["/opt/bin/bun.exe"], "/opt/bin/bun.exe"); // { name: "/opt/bin/bun.exe", kind: "plain" }
 */
export function detectApp(argvIn: readonly string[], exe?: string): AppName {
  let argv = [...argvIn];
  if (argv.length === 1 && argv[0]?.includes(" ")) argv = splitSingleString(argv[0]);
  const first = argv[0] ?? "";
  const prog = basename(first);

  if (prog === "bwrap") {
    const inner = afterSeparator(argv, "--");
    if (inner) return detectApp(inner, exe);
  }
  if (prog === "zypak-helper") {
    const inner = afterSeparator(argv, "-");
    if (inner) return detectApp(inner, exe);
  }
  if (PYTHON.test(prog)) {
    const app = pythonApp(argv);
    if (app) return app;
  }
  const asar = asarApp(argv);
  if (asar) return asar;
  const helper = electronHelper(argv);
  if (helper) return helper;
  if (EXE_NAME.test(first) && (WINDOWS_PATH.test(first) || isWineLoader(exe))) {
    return { name: first, kind: "wine" };
  }
  return { name: first, kind: "plain" };
}

/**
 * The argv of a process from its NUL-separated cmdline bytes, or an empty
 * array when there are none (kernel threads, zombies, or a process that
 * cleared its argv).
 *
 * @example
 * parseCmdline(Buffer.from("ls\0-l\0")); // ["ls", "-l"]
 */
export function parseCmdline(bytes: Uint8Array): string[] {
  if (bytes.length === 0) return [];
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8");
  if (text.endsWith("\0")) text = text.slice(0, -1);
  return text.split("\0");
}

/** What names a process: its argv, else its comm, else its pid (and /proc/PID/exe for .exe names). */
export interface ProcessIdentity {
  pid: number;
  argv: readonly string[];
  comm: string | undefined;
  exe?: string | undefined;
}

/** The application of a sample: from argv, else comm, else `[pid N]`. */
export function appOf(sample: ProcessIdentity): AppName {
  if (sample.argv.length > 0 && sample.argv.some((a) => a !== ""))
    return detectApp(sample.argv, sample.exe);
  if (sample.comm) return { name: sample.comm, kind: "plain" };
  return { name: `[pid ${sample.pid}]`, kind: "plain" };
}

/**
 * The application of a sample with the invoking user hidden: detected from
 * the argv after hiding (so a `python -c` label cut from it hides the name
 * too), then hidden again (comm).
 *
 * @example
 * hiddenAppOf({ pid: 1, argv: ["/home/ann/bot"], comm: undefined }, anonymizer("ann")).name; // "/home/<user>/bot"
 */
export function hiddenAppOf(sample: ProcessIdentity, hide: (text: string) => string): AppName {
  const app = appOf({ ...sample, argv: sample.argv.map(hide) });
  return { name: hide(app.name), kind: app.kind };
}
