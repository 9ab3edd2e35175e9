/**
 * Prometheus output with the real tools: promtool checks our text, and
 * node_exporter's textfile collector serves it back with the right values.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { renderPrometheus } from "../../src/scan/prometheus.ts";
import { kernelCount, readLimit, runBinary } from "../helpers/env.ts";
import { type Holder, spawnHolder } from "../helpers/holder.ts";
import { findSamples, parsePromText } from "../helpers/prom_text.ts";
import { fixtureReport, NASTY } from "../helpers/scan_report.ts";

/** The path of a tool the integration tests need; the test fails when it is missing. */
function tool(name: string, pkg: string): string {
  const path = Bun.which(name);
  if (!path)
    throw new Error(`${name} is missing: apt-get install ${pkg} (scripts/test-deps.sh does it)`);
  return path;
}

function promtoolCheck(text: string): { code: number; out: string } {
  const p = Bun.spawnSync([tool("promtool", "prometheus"), "check", "metrics"], {
    stdin: Buffer.from(text),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode ?? -1, out: p.stdout.toString() + p.stderr.toString() };
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

describe("promtool check metrics", () => {
  test("passes on the fixture, nasty app name included", () => {
    const r = promtoolCheck(renderPrometheus(fixtureReport()));
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  });

  test("passes on the compiled binary's output for the real /proc", () => {
    const scan = runBinary(["scan", "--format", "prometheus", "--top", "50"]);
    expect(scan.code).toBe(0);
    const r = promtoolCheck(scan.stdout);
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  });
});

describe("node_exporter textfile collector (real node_exporter)", () => {
  let dir: string;
  let holder: Holder | undefined;
  let exporter: Subprocess | undefined;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vmaudit-textfile-"));
    holder = await spawnHolder(1000, { argv0: NASTY });
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    exporter = Bun.spawn(
      [
        tool("prometheus-node-exporter", "prometheus-node-exporter"),
        `--web.listen-address=127.0.0.1:${port}`,
        "--collector.disable-defaults",
        "--collector.textfile",
        `--collector.textfile.directory=${dir}`,
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
    // Wait until it answers (it starts in well under a second).
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if ((await fetch(url)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || exporter.exitCode !== null) {
        const stderr = exporter.stderr;
        const err = stderr instanceof ReadableStream ? await new Response(stderr).text() : "";
        throw new Error(`node_exporter did not start on ${url}: ${err.slice(-500)}`);
      }
      await Bun.sleep(50);
    }
  }, 20_000);

  afterAll(async () => {
    exporter?.kill();
    await exporter?.exited;
    await holder?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("serves our metrics with the right values, including an app name full of quotes and backslashes", async () => {
    const pid = holder?.pid as number;
    const before = kernelCount(pid);
    const scan = runBinary(["scan", "--prometheus", join(dir, "vmaudit.prom"), "--top", "1000"]);
    expect(scan.code).toBe(0);
    expect(scan.stdout).toBe("");
    expect(kernelCount(pid)).toBe(before);

    const body = await (await fetch(url)).text();
    const samples = parsePromText(body);
    // node_exporter read the file without complaint.
    expect(findSamples(samples, "node_textfile_scrape_error")[0]?.value).toBe(0);

    const row = findSamples(samples, "vmaudit_process_vmas", { pid: String(pid) });
    expect(row.length).toBe(1);
    expect(row[0]?.labels.app).toBe(NASTY);
    expect(row[0]?.value).toBe(before);
    expect(findSamples(samples, "vmaudit_app_instances", { app: NASTY })[0]?.value).toBe(1);
    expect(findSamples(samples, "vmaudit_app_vmas_max", { app: NASTY })[0]?.value).toBe(before);
    expect(findSamples(samples, "vmaudit_map_count_limit")[0]?.value).toBe(readLimit());
    const ratio = findSamples(samples, "vmaudit_peak_usage_ratio")[0]?.value ?? -1;
    expect(ratio).toBeGreaterThanOrEqual(before / readLimit() - 1e-6);
    expect(ratio).toBeLessThanOrEqual(1);
    for (const name of [
      "vmaudit_system_vmas",
      "vmaudit_scan_duration_seconds",
      "vmaudit_processes_unreadable",
      "vmaudit_recommended_map_count_limit",
    ]) {
      expect(findSamples(samples, name).length).toBe(1);
    }
  }, 20_000);

  test("a file replaced atomically is read whole: no scrape error after a rewrite", async () => {
    const file = join(dir, "vmaudit.prom");
    for (let i = 0; i < 3; i++) {
      expect(runBinary(["scan", "--prometheus", file, "--top", "5"]).code).toBe(0);
      const body = await (await fetch(url)).text();
      expect(findSamples(parsePromText(body), "node_textfile_scrape_error")[0]?.value).toBe(0);
    }
  }, 20_000);

  test("--prometheus refuses a symlink at the target and leaves what it points to alone", () => {
    // Its own directory, so node_exporter never sees the link.
    const own = mkdtempSync(join(tmpdir(), "vmaudit-link-"));
    try {
      const target = join(own, "target.txt");
      writeFileSync(target, "keep me\n");
      symlinkSync(target, join(own, "link.prom"));
      const r = runBinary(["scan", "--prometheus", join(own, "link.prom")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("symlink");
      expect(readFileSync(target, "utf8")).toBe("keep me\n");
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});
