/**
 * The one place that turns argv into an exit code: pick the command, parse
 * its flags, run it, and map errors to exit codes. `main.ts` calls it and
 * exits.
 */
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, ExitError, UsageError } from "../errors.ts";
import { escapeControlLines } from "../render/terminal_text.ts";
import { VERSION_LINE } from "../version.ts";
import type { Command } from "./command.ts";
import { type Io, processIo } from "./io.ts";
import { parseCommandArgs } from "./parse.ts";
import { renderCommandUsage, renderRootUsage } from "./usage.ts";

/**
 * Run vmaudit with the given arguments (without the program name).
 *
 * @example
 * const code = await runMain(["--version"], commands);
 */
export async function runMain(
  argv: string[],
  commands: readonly Command[],
  io: Io = processIo(),
): Promise<number> {
  let command: Command | undefined;
  const [first, ...rest] = argv;
  try {
    if (first === undefined) {
      io.stderr(renderRootUsage(commands));
      return EXIT_USAGE;
    }
    if (first === "--help" || first === "-h" || first === "help") {
      const topic = first === "help" ? rest[0] : undefined;
      const cmd = topic ? findCommand(commands, topic) : undefined;
      io.stdout(cmd ? renderCommandUsage(cmd) : renderRootUsage(commands));
      return EXIT_OK;
    }
    if (first === "--version" || first === "-V") {
      io.stdout(`vmaudit ${VERSION_LINE}\n`);
      return EXIT_OK;
    }
    command = findCommand(commands, first);
    const parsed = parseCommandArgs(command, rest);
    if (parsed.values.help) {
      io.stdout(renderCommandUsage(command));
      return EXIT_OK;
    }
    return await command.run({ ...parsed, io, argv });
  } catch (err) {
    if (err instanceof ExitError) {
      // Messages quote paths, argv and file contents: show them escaped.
      io.stderr(`vmaudit: ${escapeControlLines(err.message)}\n`);
      if (err.hint) io.stderr(`${escapeControlLines(err.hint)}\n`);
      if (err instanceof UsageError && command?.usageErrorStdout)
        io.stdout(command.usageErrorStdout(err.message, rest));
      if (err instanceof UsageError && command?.usageExitCode !== undefined)
        return command.usageExitCode;
      return err.code;
    }
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr(`vmaudit: internal error (please report this):\n${escapeControlLines(detail)}\n`);
    return EXIT_FAILURE;
  }
}

function findCommand(commands: readonly Command[], name: string): Command {
  const command = commands.find((c) => c.name === name);
  if (command) return command;
  if (name.startsWith("-"))
    throw new UsageError(`Unknown option "${name}": expected a command first`);
  const visible = commands.filter((c) => !c.hidden).map((c) => c.name);
  throw new UsageError(`Unknown command "${name}": expected one of ${visible.join(", ")}`);
}
