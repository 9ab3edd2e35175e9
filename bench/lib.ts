/**
 * Benchmark helpers: time whole commands, interleaved, and report medians.
 * Machines are noisy, so every target is a ratio against a baseline measured
 * in the same run.
 */
import { median } from "../src/core/median.ts";

/** Wall time of one shell command, in milliseconds. */
export function timeShell(command: string): number {
  const start = performance.now();
  const r = Bun.spawnSync(["sh", "-c", command], { stdout: "ignore", stderr: "ignore" });
  const ms = performance.now() - start;
  if (r.exitCode !== 0 && !command.includes("2>/dev/null"))
    throw new Error(`Benchmark command failed: ${command}`);
  return ms;
}

export { median };

/**
 * Run each command `runs` times, round-robin so drift hits all alike, after
 * `warmup` untimed rounds. Returns the medians by name.
 */
export function interleave(
  commands: Record<string, string>,
  runs: number,
  warmup = 3,
): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(commands)) samples[name] = [];
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, cmd] of Object.entries(commands)) {
      const ms = timeShell(cmd);
      if (i >= warmup) samples[name]?.push(ms);
    }
  }
  const medians: Record<string, number> = {};
  for (const [name, values] of Object.entries(samples)) medians[name] = median(values);
  return medians;
}

export function verdict(ok: boolean): string {
  return ok ? "PASS" : "MISS";
}
