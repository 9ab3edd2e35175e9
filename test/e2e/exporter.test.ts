/**
 * `vmaudit exporter`, the compiled binary: a real Prometheus server scrapes
 * it every second and its HTTP API returns the kernel's exact count for a
 * child holding a known number of VMAs; promtool accepts what it serves; a
 * scrape storm is one scan; --listen errors, a port in use, IPv6, and a
 * clean stop on SIGTERM and SIGINT.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { binary, kernelCount, readLimit, runBinary } from "../helpers/env.ts";
import { freePort, type RunningExporter, startExporterProcess } from "../helpers/exporter.ts";
import { type Holder, spawnHolder } from "../helpers/holder.ts";
import { findSamples, parsePromText } from "../helpers/prom_text.ts";

const HOLD = 2500;

function tool(name: string, pkg: string): string {
  const path = Bun.which(name);
  if (!path)
    throw new Error(`${name} is missing: apt-get install ${pkg} (scripts/test-deps.sh does it)`);
  return path;
}

const LOG_LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (listening on |stopping \(|not root|\S+ "[A-Z]+ \S+" \d{3} \d+ \d+\.\dms ")/;

let dir: string;
let holder: Holder;
beforeAll(async () => {
  binary();
  dir = mkdtempSync(join(tmpdir(), "vmaudit-exporter-e2e-"));
  holder = await spawnHolder(HOLD);
});
afterAll(async () => {
  await holder?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("usage errors and start-up failures", () => {
  const badListen: [string, string][] = [
    ["[::1]", "no port"],
    ["::1:10065", "an IPv6 address goes in brackets"],
    ["127.0.0.1", "no port"],
    ["127.0.0.1:0", "port 0 is outside 1 to 65535"],
    ["127.0.0.1:65536", "port 65536 is outside 1 to 65535"],
    ["localhost:10065", '"localhost" is not an IP address'],
  ];
  for (const [value, why] of badListen)
    test(`--listen "${value}": exit 2, one line (${why}) and the --help hint`, () => {
      const r = runBinary(["exporter", "--listen", value]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trimEnd().split("\n")).toEqual([
        `vmaudit: Cannot use --listen "${value}": ${why}; expected ADDRESS:PORT with an IP address and a port from 1 to 65535, such as 127.0.0.1:10065, 0.0.0.0:10065 or [::1]:10065`,
        "Run 'vmaudit exporter --help' for usage",
      ]);
    });

  test("a port in use: exit 1 with one line that says so, and the other listener is untouched", async () => {
    const first = await startExporterProcess(binary());
    try {
      const r = runBinary(["exporter", "--listen", `127.0.0.1:${first.port}`]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `vmaudit: Cannot listen on 127.0.0.1:${first.port}: the port is in use (EADDRINUSE): another exporter or program listens there; stop it or pick another port\n`,
      );
      expect((await fetch(`${first.base}/healthz`)).status).toBe(200);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });

  test("an address this machine does not have: exit 1, one line", async () => {
    const r = runBinary(["exporter", "--listen", "192.0.2.1:10065"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "vmaudit: Cannot listen on 192.0.2.1:10065: no interface of this machine has that address (EADDRNOTAVAIL)\n",
    );
  });

  test("a --procfs that is not there: exit 1 before listening", async () => {
    const port = await freePort();
    const r = runBinary([
      "exporter",
      "--listen",
      `127.0.0.1:${port}`,
      "--procfs",
      join(dir, "nope"),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`vmaudit: Cannot scan "${join(dir, "nope")}": ENOENT\n`);
  });
});

describe("serving", () => {
  let exp: RunningExporter;
  beforeAll(async () => {
    exp = await startExporterProcess(binary(), ["--top", "1000"]);
  });
  afterAll(async () => {
    await exp?.stop();
  });

  test("/metrics has the holder's exact count, and promtool check metrics accepts it all", async () => {
    const body = await (await fetch(`${exp.base}/metrics`)).text();
    const samples = parsePromText(body);
    expect(
      findSamples(samples, "vmaudit_process_vmas", { pid: String(holder.pid) })[0]?.value,
    ).toBe(kernelCount(holder.pid));
    expect(findSamples(samples, "vmaudit_map_count_limit")[0]?.value).toBe(readLimit());
    expect(findSamples(samples, "vmaudit_app_vmas_peak").length).toBeGreaterThan(0);
    const check = Bun.spawnSync([tool("promtool", "prometheus"), "check", "metrics"], {
      stdin: Buffer.from(body),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(check.stdout.toString() + check.stderr.toString()).toBe("");
    expect(check.exitCode).toBe(0);
  });

  test("a storm of 300 concurrent scrapes does not start a second scan within --min-interval", async () => {
    const scans = async () =>
      findSamples(
        parsePromText(await (await fetch(`${exp.base}/metrics`)).text()),
        "vmaudit_exporter_scans_total",
      )[0]?.value ?? -1;
    const before = await scans();
    const codes = await Promise.all(
      Array.from({ length: 300 }, async () => (await fetch(`${exp.base}/metrics`)).status),
    );
    expect(codes.every((c) => c === 200)).toBe(true);
    // The default interval is 5 s; the storm takes well under a second, and
    // at most one interval can end within it.
    expect(await scans()).toBeLessThanOrEqual(before + 1);
  });
});

describe("addresses and signals", () => {
  const hasIpv6Loopback =
    existsSync("/proc/net/if_inet6") &&
    readFileSync("/proc/net/if_inet6", "utf8").includes(" lo\n");

  test("[::1]:PORT serves on the IPv6 loopback", async () => {
    if (!hasIpv6Loopback) {
      console.warn("SKIP: no IPv6 loopback on this machine");
      return;
    }
    const exp = await startExporterProcess(binary(), [], { host: "::1" });
    try {
      expect(exp.base).toBe(`http://[::1]:${exp.port}`);
      expect(await (await fetch(`${exp.base}/healthz`)).text()).toBe("ok\n");
      expect(exp.log().some((l) => l.includes('::1 "GET /healthz" 200'))).toBe(true);
    } finally {
      await exp.stop();
    }
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const)
    test(`${signal} stops it: exit 0, every log line in the documented form`, async () => {
      const exp = await startExporterProcess(binary());
      await fetch(`${exp.base}/metrics`);
      await fetch(`${exp.base}/healthz`, { headers: { "user-agent": "t\u00e9st" } });
      expect(await exp.stop(signal)).toBe(0);
      const log = exp.log();
      expect(log.at(-1)).toMatch(new RegExp(`Z stopping \\(${signal}\\)$`));
      for (const line of log) expect({ line, ok: LOG_LINE.test(line) }).toEqual({ line, ok: true });
      expect(log.filter((l) => l.includes('"GET '))).toHaveLength(2);
    });
});

describe("a real Prometheus server (Debian's prometheus) scraping it every second", () => {
  let exp: RunningExporter;
  let prometheus: Subprocess | undefined;
  let api = "";
  let startedAt = 0;

  beforeAll(async () => {
    exp = await startExporterProcess(binary(), ["--top", "1000"]);
    startedAt = performance.now();
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v1`;
    const config = join(dir, "prometheus.yml");
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        "  - job_name: vmaudit",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${exp.port}"]`,
        "",
      ].join("\n"),
    );
    prometheus = Bun.spawn(
      [
        tool("prometheus", "prometheus"),
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
  }, 20_000);

  afterAll(async () => {
    prometheus?.kill();
    await prometheus?.exited;
    await exp?.stop();
  });

  /** Run an instant query until `ok` accepts its result (Prometheus needs a few scrapes). */
  async function query(
    promql: string,
    ok: (r: { metric: Record<string, string>; value: [number, string] }[]) => boolean,
  ) {
    const deadline = Date.now() + 30_000;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${api}/query?query=${encodeURIComponent(promql)}`);
        const j = (await res.json()) as {
          status: string;
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        last = j;
        if (j.status === "success" && ok(j.data.result)) return j.data.result;
      } catch (err) {
        last = err;
      }
      if (prometheus?.exitCode !== null) {
        const err =
          prometheus?.stderr instanceof ReadableStream
            ? await new Response(prometheus.stderr).text()
            : "";
        throw new Error(`prometheus exited: ${err.slice(-1000)}`);
      }
      await Bun.sleep(250);
    }
    throw new Error(`no answer to ${promql}: ${JSON.stringify(last)}`);
  }

  test("its API returns vmaudit_process_vmas for the holder, the kernel's exact count", async () => {
    const result = await query(`vmaudit_process_vmas{pid="${holder.pid}"}`, (r) => r.length === 1);
    const [row] = result;
    expect(row?.metric.job).toBe("vmaudit");
    expect(row?.metric.instance).toBe(`127.0.0.1:${exp.port}`);
    expect(Number(row?.value[1])).toBe(kernelCount(holder.pid));
    expect(kernelCount(holder.pid)).toBeGreaterThanOrEqual(HOLD);
  }, 40_000);

  test("the target is up, scraped without error, and the scans stay within the interval's bound", async () => {
    const up = await query('up{job="vmaudit"}', (r) => r.length === 1);
    expect(up[0]?.value[1]).toBe("1");
    const targets = (await (await fetch(`${api}/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(targets.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([["up", ""]]);
    // Let Prometheus scrape every second for a while, then compare.
    await Bun.sleep(6000);
    const scans = await query("vmaudit_exporter_scans_total", (r) => r.length === 1);
    const elapsed = (performance.now() - startedAt) / 1000;
    const scraped = await query('count_over_time(up{job="vmaudit"}[1m])', (r) => r.length === 1);
    console.log(
      `Prometheus scraped ${scraped[0]?.value[1]} times in ${elapsed.toFixed(1)} s; the exporter scanned ${scans[0]?.value[1]} times (bound ${Math.floor(elapsed / 5) + 1})`,
    );
    expect(Number(scraped[0]?.value[1])).toBeGreaterThan(Number(scans[0]?.value[1]));
    expect(Number(scans[0]?.value[1])).toBeLessThanOrEqual(Math.floor(elapsed / 5) + 1);
    const errors = await query("vmaudit_exporter_scan_errors_total", (r) => r.length === 1);
    expect(errors[0]?.value[1]).toBe("0");
  }, 60_000);
});
