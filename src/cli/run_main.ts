/**
 * The one place that turns argv into an exit code: pick the command, parse
 * its flags, load and run it, and map errors to exit codes. `main.ts` calls
 * it and exits.
 *
 * Start-up is paid per path: `--version` loads nothing but this file and
 * the command table's metadata; help loads the usage renderer, `help --man`
 * the man page renderer; a command
 * loads the parser (node:util) and then only its own implementation
 * (`command.load()`).
 */
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, ExitError, UsageError } from "../errors.ts";
import { BUILD_DATE, VERSION, VERSION_LINE } from "../version.ts";
import type { Command } from "./command.ts";
import { type Io, processIo } from "./io.ts";

/**
 * Run vmaudit with the given arguments (without the program name).
 *
 * @example
 * const code = await runMain(["--version"], COMMANDS);
 */
export async function runMain(
  argv: readonly string[],
  commands: readonly Command[],
  io: Io = processIo(),
): Promise<number> {
  try {
    return await dispatch(argv, commands, io);
  } finally {
    await io.flush?.();
  }
}

async function dispatch(
  argv: readonly string[],
  commands: readonly Command[],
  io: Io,
): Promise<number> {
  let command: Command | undefined;
  const [first, ...rest] = argv;
  try {
    if (first === "--version" || first === "-V") {
      io.stdout(`vmaudit ${VERSION_LINE}\n`);
      return EXIT_OK;
    }
    if (first === undefined) {
      const { renderRootUsage } = await import("./usage.ts");
      io.stderr(renderRootUsage(commands));
      return EXIT_USAGE;
    }
    if (first === "help" && rest[0] === "--man") {
      if (rest.length > 1)
        throw new UsageError(`Unexpected argument "${rest[1]}": expected nothing after help --man`);
      const { renderManPage } = await import("./man_page.ts");
      io.stdout(renderManPage(commands, { version: VERSION, date: BUILD_DATE }));
      return EXIT_OK;
    }
    if (first === "--help" || first === "-h" || first === "help") {
      const { renderCommandUsage, renderRootUsage } = await import("./usage.ts");
      const topic = first === "help" ? rest[0] : undefined;
      const cmd = topic ? findCommand(commands, topic) : undefined;
      io.stdout(cmd ? renderCommandUsage(cmd) : renderRootUsage(commands));
      return EXIT_OK;
    }
    command = findCommand(commands, first);
    const { parseCommandArgs } = await import("./parse.ts");
    const parsed = parseCommandArgs(command, rest);
    if (parsed.help) {
      const { renderCommandUsage } = await import("./usage.ts");
      io.stdout(renderCommandUsage(command));
      return EXIT_OK;
    }
    const implementation = await command.load();
    return await implementation.run({
      options: parsed.options,
      args: parsed.args,
      io,
      argv,
      commands,
    });
  } catch (err) {
    const { escapeControlLines } = await import("../render/terminal_text.ts");
    if (err instanceof ExitError) {
      // Messages quote paths, argv and file contents: show them escaped.
      io.stderr(`vmaudit: ${escapeControlLines(err.message)}\n`);
      if (err.hint) io.stderr(`${escapeControlLines(err.hint)}\n`);
      if (err instanceof UsageError && command?.usageExitCode !== undefined) {
        const implementation = await command.load();
        if (implementation.usageErrorStdout)
          io.stdout(implementation.usageErrorStdout(err.message, rest));
        return command.usageExitCode;
      }
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
