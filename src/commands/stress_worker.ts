/**
 * `vmaudit __stress-worker`: the hidden subcommand that `vmaudit stress`
 * spawns as its workload. Not for people; its flags are the harness's.
 */

import { WORKER_COMMAND } from "../../stress/protocol.ts";
import type { WorkerPlan } from "../../stress/worker.ts";
import type { Command, OptionValues } from "../cli/command.ts";
import { stringOption } from "../cli/parse.ts";
import { parsePositiveInt } from "../cli/values.ts";
import { UsageError } from "../errors.ts";

/**
 * The worker's flags to its plan.
 *
 * @example
 * parseWorkerPlan({ target: "100", checkpoints: "10,100", "time-limit": "60" }).checkpoints; // [10, 100]
 */
export function parseWorkerPlan(values: OptionValues): WorkerPlan {
  const cmd = WORKER_COMMAND;
  const target = parsePositiveInt("--target", stringOption(values, "target") ?? "", {
    command: cmd,
  });
  const raw = stringOption(values, "checkpoints") ?? String(target);
  const checkpoints = raw
    .split(",")
    .map((c) => parsePositiveInt("--checkpoints", c, { command: cmd, max: target }));
  if (
    checkpoints.at(-1) !== target ||
    checkpoints.some((c, i) => i > 0 && c <= (checkpoints[i - 1] as number))
  ) {
    throw new UsageError(
      `Cannot use --checkpoints "${raw}": expected ascending counts ending at the target`,
      cmd,
    );
  }
  const parent = stringOption(values, "parent");
  return {
    target,
    checkpoints,
    limitCheck: values["limit-check"] === true,
    timeLimitSeconds: parsePositiveInt(
      "--time-limit",
      stringOption(values, "time-limit") ?? "600",
      {
        command: cmd,
      },
    ),
    parentPid:
      parent === undefined ? undefined : parsePositiveInt("--parent", parent, { command: cmd }),
  };
}

export const stressWorkerCommand: Command = {
  name: WORKER_COMMAND,
  summary: "The workload process of 'vmaudit stress' (internal)",
  hidden: true,
  options: {
    target: { type: "string", value: "N", description: "Mappings to create" },
    checkpoints: { type: "string", value: "LIST", description: "Created counts to pause at" },
    "limit-check": { type: "boolean", description: "Keep mapping until the kernel refuses" },
    "time-limit": { type: "string", value: "SECONDS", description: "End after this long" },
    parent: { type: "string", value: "PID", description: "The harness's pid" },
  },
  async run({ values }) {
    const plan = parseWorkerPlan(values);
    // Loaded here, not at start-up: bun:ffi costs every other command ~1.7 ms.
    const { runWorker } = await import("../../stress/worker.ts");
    return runWorker(plan);
  },
};
