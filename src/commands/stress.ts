/**
 * `vmaudit stress`: a controlled mmap workload that proves a limit and
 * measures scans at high VMA counts.
 */

import type { Command } from "../cli/command.ts";
import { JSON_OPTION, stdoutPalette } from "../cli/common_flags.ts";
import { isRoot } from "../identity.ts";
import { runDir } from "../limit/journal.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { runStress } from "../stress/harness.ts";
import {
  DEFAULT_CHECKPOINT_PERCENTS,
  DEFAULT_REPEAT,
  DEFAULT_TIME_LIMIT_SECONDS,
  parseStressOptions,
  STRESS_FORCE_THRESHOLD,
} from "../stress/plan.ts";
import { renderProgress, renderStressJson, renderStressText } from "../stress/render.ts";

export const stressCommand: Command = {
  name: "stress",
  summary: "Map N VMAs in a worker: prove the limit and time scans at that count",
  description: `
Starts a worker process that creates --target one-page mappings (no RAM, one
vm_area_struct each). At each checkpoint it times --repeat scans of the
worker's maps with scan's own reader and checks the count is exact. Then,
unless --no-limit-check, it keeps mapping until the kernel refuses and checks
the refusal against the kernel's rule: a process can reach limit + 1 VMAs.

--limit sets vm.max_map_count for the run (root). The old value is written to
a journal in /run/vmaudit first and restored at the end, on errors, on Ctrl-C
and on SIGTERM; after a SIGKILL the next run restores it.

Exit codes: 0 done, 1 limit not honored / count not exact / target not
reachable, 2 usage or a refused value, 77 --limit needs root, 130/143 interrupted.`,
  options: {
    target: { type: "string", value: "N", description: "VMAs the worker creates (required)" },
    limit: {
      type: "string",
      value: "L",
      description: "Set vm.max_map_count to L for the run, then restore it (root)",
    },
    checkpoints: {
      type: "string",
      value: "LIST",
      description: "Percentages of N to pause and time scans at; 100 is always added",
      default: DEFAULT_CHECKPOINT_PERCENTS.join(","),
    },
    repeat: {
      type: "string",
      value: "K",
      description: "Scans timed at each checkpoint",
      default: String(DEFAULT_REPEAT),
    },
    "no-limit-check": {
      type: "boolean",
      description: "Stop at N instead of mapping on until the kernel refuses",
    },
    force: {
      type: "boolean",
      description: `Allow values above ${STRESS_FORCE_THRESHOLD} and a --limit below a running process's count`,
    },
    "time-limit": {
      type: "string",
      value: "SECONDS",
      description: "The worker ends itself after this long",
      default: String(DEFAULT_TIME_LIMIT_SECONDS),
    },
    ...JSON_OPTION,
  },
  examples: [
    "sudo vmaudit stress --target 100000 --limit 120000",
    "vmaudit stress --target 20000 --json",
    "sudo vmaudit stress --target 50000 --limit 30000 --checkpoints 10,50",
  ],
  async run({ values, io }) {
    const opts = parseStressOptions(values);
    const showProgress = io.stderrIsTTY;
    let lastDrawn = -1;
    const report = await runStress(opts, {
      procfs: "/proc",
      runDir: runDir(io.env),
      env: io.env,
      isRoot: isRoot(),
      notice: (line) => io.stderr(`${escapeControl(line)}\n`),
      onProgress: showProgress
        ? (created, target) => {
            const pct = Math.floor((created / target) * 100);
            if (pct === lastDrawn) return;
            lastDrawn = pct;
            io.stderr(`\r\x1b[K${renderProgress(created, target)}`);
          }
        : undefined,
    });
    if (showProgress && lastDrawn >= 0) io.stderr("\r\x1b[K");
    io.stdout(
      opts.json ? renderStressJson(report) : renderStressText(report, stdoutPalette(io, values)),
    );
    return report.exitCode;
  },
};
