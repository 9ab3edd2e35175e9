/**
 * `vmaudit completions SHELL`, run: the script for SHELL, rendered from the
 * table that runMain passes in (so this module does not import the table,
 * which imports it).
 */
import { renderCompletion } from "../cli/completions.ts";
import { EXIT_OK } from "../errors.ts";
import type { CompletionsRun } from "./completions.ts";

export function run({ args, io, commands }: CompletionsRun): number {
  io.stdout(renderCompletion(args.SHELL, commands));
  return EXIT_OK;
}
