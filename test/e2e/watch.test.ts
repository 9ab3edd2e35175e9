/**
 * The compiled binary watching a worker whose VMA count rises and falls:
 * peaks, --save, and the end of a run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binary, kernelCount, runBinary } from "../helpers/env.ts";
import { spawnWave, type Wave } from "../helpers/holder.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "vmaudit-watch-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("vmaudit watch (compiled binary) on a worker whose count rises and falls", () => {
  let wave: Wave;
  const app = `vmaudit-wave-${process.pid}`;
  beforeAll(async () => {
    wave = await spawnWave({ argv0: app });
  });
  afterAll(async () => {
    await wave?.stop();
  });

  test("records the true peak, when it was seen, the sampling cost, and saves it", async () => {
    const save = join(dir, "wave-peaks.json");
    const proc = Bun.spawn(
      [binary(), "watch", "--interval", "0.05", "--json", "--top", "100000", "--save", save],
      { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    await Bun.sleep(300);
    const base = kernelCount(wave.pid);
    const upAt = Date.now();
    await wave.send("up", 3000);
    const truePeak = kernelCount(wave.pid);
    expect(truePeak).toBeGreaterThanOrEqual(base + 3000);
    await Bun.sleep(400);
    const downAt = Date.now();
    await wave.send("down", 3000);
    await wave.send("up", 1000);
    await Bun.sleep(300);
    const last = kernelCount(wave.pid);
    proc.kill("SIGTERM");
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.schemaVersion).toBe(1);
    expect(report.stoppedBy).toBe("SIGTERM");
    const row = report.processes.find((p: { pid: number }) => p.pid === wave.pid);
    expect(row).toMatchObject({ app, vmas: truePeak, last });
    const seen = Date.parse(row.seenAt);
    expect(seen).toBeGreaterThanOrEqual(upAt - 5);
    expect(seen).toBeLessThanOrEqual(downAt + 5);
    const appRow = report.applications.find((a: { app: string }) => a.app === app);
    expect(appRow).toMatchObject({ vmas: truePeak, pid: wave.pid });
    // The sampling cost is reported and small next to the interval.
    expect(report.sampling.samples).toBeGreaterThanOrEqual(10);
    expect(report.sampling.meanMs).toBeGreaterThan(0);
    expect(report.sampling.meanMs).toBeLessThan(50);
    console.log(
      `watch sampling: ${report.sampling.samples} samples, mean ${report.sampling.meanMs.toFixed(2)} ms, max ${report.sampling.maxMs.toFixed(2)} ms`,
    );
    // The recommendation comes from the run's highest peak.
    expect(report.recommendation.basis).toBe("watched-peak");
    expect(report.recommendation.peak).toBe(report.peak.vmas);
    expect(report.peak.vmas).toBeGreaterThanOrEqual(truePeak);
    // The saved file holds the worker's peak; scan --peaks reads it back.
    const saved = JSON.parse(readFileSync(save, "utf8"));
    expect(saved.kind).toBe("vmaudit-peaks");
    expect(saved.applications.find((a: { app: string }) => a.app === app)?.vmas).toBe(truePeak);
    const scan = runBinary(["scan", "--json", "--peaks", save]);
    expect(scan.code).toBe(0);
    expect(JSON.parse(scan.stdout).settings.recordedPeak).toEqual(saved.applications[0]);
  }, 30_000);

  test("--duration ends the run by itself and prints the text report", () => {
    const r = runBinary(["watch", "--interval", "0.05", "--duration", "0.3"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("stopped by duration");
    expect(r.stdout).toContain("Recommendation from the peak");
    expect(r.stdout).not.toContain("\x1b[");
  });

  test("SIGINT (Ctrl-C) stops it cleanly too", async () => {
    const proc = Bun.spawn([binary(), "watch", "--interval", "0.05", "--json"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    await Bun.sleep(300);
    proc.kill("SIGINT");
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    expect(JSON.parse(out).stoppedBy).toBe("SIGINT");
  });

  test("--save to a foreign file fails at once, before sampling, and leaves it alone", () => {
    const path = join(dir, "other.json");
    writeFileSync(path, '{"other": 1}');
    const t0 = Date.now();
    const r = runBinary(["watch", "--save", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not a vmaudit peaks file");
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readFileSync(path, "utf8")).toBe('{"other": 1}');
  });
});
