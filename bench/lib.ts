/**
 * Benchmark helpers: time whole commands, interleaved, and report medians.
 * Machines are noisy (and shared), so every target is a ratio or a
 * difference against a baseline measured in the same run, round-robin.
 */
import { readdirSync } from "node:fs";
import { median } from "../src/core/median.ts";

export { median };

/** Wall time of one shell command, in milliseconds. */
export function timeShell(command: string): number {
  const start = performance.now();
  const r = Bun.spawnSync(["sh", "-c", command], { stdout: "ignore", stderr: "ignore" });
  const ms = performance.now() - start;
  if (r.exitCode !== 0 && !command.includes("2>/dev/null"))
    throw new Error(`Benchmark command failed: ${command}`);
  return ms;
}

/**
 * Wall time of one program run without a shell (as `hyperfine -N`), its
 * output thrown away. A non-zero exit is an error unless `mayFail` (cat
 * meets processes that exit between the listing and the read).
 */
export function timeSpawn(argv: string[], mayFail = false): number {
  const start = performance.now();
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
  const ms = performance.now() - start;
  if (r.exitCode !== 0 && !mayFail) throw new Error(`Benchmark command failed: ${argv[0]}`);
  return ms;
}

/**
 * Run each command `runs` times, round-robin so drift hits all alike, after
 * `warmup` untimed rounds. Returns the medians by name.
 */
export function interleave(
  commands: Record<string, string>,
  runs: number,
  warmup = 3,
): Record<string, number> {
  return interleaveSpawn(
    Object.fromEntries(
      Object.entries(commands).map(([name, cmd]) => [name, () => ["sh", "-c", cmd]]),
    ),
    runs,
    warmup,
    true,
  );
}

/**
 * Like {@link interleave}, without a shell: each command is an argv, made
 * anew before every run (outside the timing), so a glob over /proc sees the
 * processes of that moment.
 */
export function interleaveSpawn(
  commands: Record<string, () => string[]>,
  runs: number,
  warmup = 3,
  mayFail = false,
): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (const name of Object.keys(commands)) samples[name] = [];
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, argvOf] of Object.entries(commands)) {
      const argv = argvOf();
      const ms = timeSpawn(argv, mayFail || argv[0] === "cat");
      if (i >= warmup) samples[name]?.push(ms);
    }
  }
  const medians: Record<string, number> = {};
  for (const [name, values] of Object.entries(samples)) medians[name] = median(values);
  return medians;
}

/** `/proc/[0-9]*\/NAME` for each name, expanded as the shell does (`{maps,cmdline,stat}`: all maps first). */
export function procGlob(...names: string[]): string[] {
  const pids = readdirSync("/proc").filter((e) => /^[0-9]+$/.test(e));
  return names.flatMap((name) => pids.map((pid) => `/proc/${pid}/${name}`));
}

export function verdict(ok: boolean): string {
  return ok ? "PASS" : "MISS";
}
