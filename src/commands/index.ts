/**
 * The command table: the single list that drives dispatch, --help and shell
 * completions. Each entry is metadata plus a `load()` that imports the
 * implementation only when that command runs, so this table is all a start
 * pays for. Add a command by adding it here (ARCHITECTURE.md, "How to add a
 * command").
 */
import type { Command } from "../cli/command.ts";
import { applyCommand } from "./apply.ts";
import { checkCommand } from "./check.ts";
import { completionsCommand } from "./completions.ts";
import { exporterCommand } from "./exporter.ts";
import { fleetCommand } from "./fleet.ts";
import { inspectCommand } from "./inspect.ts";
import { scanCommand } from "./scan.ts";
import { stressCommand } from "./stress.ts";
import { stressWorkerCommand } from "./stress_worker.ts";
import { watchCommand } from "./watch.ts";

export const COMMANDS: readonly Command[] = [
  scanCommand,
  applyCommand,
  stressCommand,
  inspectCommand,
  watchCommand,
  checkCommand,
  exporterCommand,
  fleetCommand,
  completionsCommand,
  stressWorkerCommand,
];
