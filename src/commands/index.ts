/**
 * The command table: the single list that drives dispatch, --help and shell
 * completions. Add a command by adding it here.
 */
import type { Command } from "../cli/command.ts";
import { scanCommand } from "./scan.ts";
import { stressCommand } from "./stress.ts";
import { stressWorkerCommand } from "./stress_worker.ts";

export const COMMANDS: readonly Command[] = [scanCommand, stressCommand, stressWorkerCommand];
