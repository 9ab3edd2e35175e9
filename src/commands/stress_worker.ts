/**
 * `vmaudit __stress-worker`: the hidden subcommand that `vmaudit stress`
 * spawns as its workload. Not for people. Its arguments are written and read
 * by stress/contract.ts alone (`rawArgs`), and the worker (bun:ffi, ~1.7 ms
 * of start-up) is imported only when this command runs.
 */
import { parseWorkerArgs, WORKER_COMMAND } from "../../stress/contract.ts";
import { COMMON_EXIT_CODES, type CommandInput, defineCommand } from "../cli/command.ts";

export type StressWorkerRun = CommandInput<Record<string, never>>;

export const stressWorkerCommand = defineCommand({
  name: WORKER_COMMAND,
  summary: "The workload process of 'vmaudit stress' (internal)",
  hidden: true,
  options: {},
  rawArgs: true,
  exitCodes: [
    COMMON_EXIT_CODES.ok,
    { code: 1, meaning: "the worker could not start or its parent is gone" },
    COMMON_EXIT_CODES.usage,
  ],
  load: async () => ({
    async run({ argv }: StressWorkerRun) {
      const plan = parseWorkerArgs(argv.slice(1));
      const { runWorker } = await import("../../stress/worker.ts");
      return runWorker(plan);
    },
  }),
});
