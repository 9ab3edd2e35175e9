/**
 * The command table: the single list that drives dispatch, --help and shell
 * completions. Add a command by adding it here.
 */
import type { Command } from "../cli/command.ts";
import { checkCommand } from "./check.ts";
import { inspectCommand } from "./inspect.ts";
import { scanCommand } from "./scan.ts";
import { watchCommand } from "./watch.ts";

export const COMMANDS: readonly Command[] = [
  scanCommand,
  checkCommand,
  inspectCommand,
  watchCommand,
];
