/**
 * The command line as the user typed it, for messages such as "needs root:
 * sudo vmaudit apply 120000" that the user can copy.
 */
import { basename } from "node:path";
import { EXIT_NEEDS_ROOT, ExitError } from "../errors.ts";
import { effectiveUid, isRoot } from "../identity.ts";

/** Quote one argument for a POSIX shell, only when it needs it. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * The program as typed (`./dist/vmaudit`, `vmaudit`). Under `bun run` the
 * typed program is bun itself, so fall back to `vmaudit`.
 */
export function typedProgram(argv0: string | undefined = process.argv0): string {
  if (!argv0 || basename(argv0) === "bun") return "vmaudit";
  return argv0;
}

/**
 * The command line, quoted for a shell.
 *
 * @example
 * commandLine(["apply", "--file", "my file.conf"], "vmaudit"); // "vmaudit apply --file 'my file.conf'"
 */
export function commandLine(argv: readonly string[], program = typedProgram()): string {
  return [program, ...argv].map(shellQuote).join(" ");
}

/**
 * Throw exit 77 unless running as root, showing the exact command to rerun
 * with sudo.
 *
 * @example
 * requireRoot("apply", ["apply", "120000"]); // throws "vmaudit apply needs root: sudo vmaudit apply 120000"
 */
export function requireRoot(
  command: string,
  argv: readonly string[],
  euid: number | undefined = effectiveUid(),
): void {
  if (isRoot(euid)) return;
  throw new ExitError(
    EXIT_NEEDS_ROOT,
    `vmaudit ${command} needs root: sudo ${commandLine(argv.length > 0 ? argv : [command])}`,
  );
}
