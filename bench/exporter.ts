/**
 * Exporter load (issue 10 §2), on the loopback address with ApacheBench
 * (`ab`, Debian's apache2-utils): the compiled `vmaudit exporter` with its
 * default --min-interval (5 s) and --top 20.
 *
 * - 10,000 requests of GET /metrics, 10 at a time, a new connection each:
 *   requests/s, p50 and p99 latency (ab's percentiles, in ms with
 *   fractions), and the exporter's RSS before and after them. "Before" is
 *   after the first scan and a warm-up of 1,000 requests (Bun's JIT and
 *   heap settle there; that growth is printed too). Target: RSS grows by at
 *   most 5 MiB over the 10,000. Then 10,000 more: a leak would grow again.
 * - A scrape storm: a fresh exporter, 50 clients for 15 s as fast as they
 *   can, then one last scrape that reads vmaudit_exporter_scans_total.
 *   Every scan of that exporter happened within the window, so it must be
 *   at most floor(window / min-interval) + 1.
 * - The same 10,000 requests with Bun's JIT off (BUN_JSC_useJIT=0): what
 *   the systemd unit's MemoryDenyWriteExecute=yes leads to; and with only
 *   JavaScriptCore's optimizing tier off (BUN_JSC_useFTLJIT=0), which shows
 *   what the RSS growth of the first run is: that tier compiling the hot
 *   paths, once.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startExporterProcess } from "../test/helpers/exporter.ts";
import { findSamples, parsePromText } from "../test/helpers/prom_text.ts";
import { verdict } from "./lib.ts";

export const TARGETS = {
  /** RSS growth over 10,000 requests, at most. */
  rssGrowthMiB: 5,
} as const;

const MIN_INTERVAL_S = 5;
const REQUESTS = 10_000;
const CONCURRENCY = 10;
const WARMUP = 1_000;
const STORM_SECONDS = 15;
const STORM_CONCURRENCY = 50;

export interface LoadRun {
  requests: number;
  failed: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface ExporterBench {
  ab: string;
  load: LoadRun & {
    rssStartKiB: number;
    rssBeforeKiB: number;
    rssAfterKiB: number;
    rssAgainKiB: number;
  };
  storm: LoadRun & { windowS: number; scans: number; bound: number };
  noJit: LoadRun & { rssBeforeKiB: number; rssAfterKiB: number; rssAgainKiB: number };
  noFtl: LoadRun & { rssBeforeKiB: number; rssAfterKiB: number; rssAgainKiB: number };
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`Cannot read the RSS of pid ${pid}`);
  return Number(m[1]);
}

/**
 * Run ab; its summary and the percentiles of its CSV (-e). Asynchronously:
 * this process must keep reading the exporter's log meanwhile, or the
 * exporter blocks on a full stderr pipe.
 */
async function ab(args: string[], url: string, dir: string): Promise<LoadRun> {
  const csv = join(dir, "percentiles.csv");
  const p = Bun.spawn(["ab", "-q", "-r", "-e", csv, ...args, url], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`ab failed (${code}): ${err}${out}`);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  const pct = new Map(
    readFileSync(csv, "utf8")
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(",").map(Number) as [number, number]),
  );
  const non2xx = num(/^Non-2xx responses:\s+(\d+)/m);
  // ab counts a body whose length differs from the first one as "failed"
  // (Length): after each new scan the metrics differ. Only connection and
  // receive errors, exceptions and non-2xx answers are failures here.
  const kinds = /\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)/.exec(out);
  const broken = kinds ? Number(kinds[1]) + Number(kinds[2]) + Number(kinds[3]) : 0;
  return {
    requests: num(/^Complete requests:\s+(\d+)/m),
    failed: broken + (Number.isNaN(non2xx) ? 0 : non2xx),
    requestsPerSecond: num(/^Requests per second:\s+([\d.]+)/m),
    p50Ms: pct.get(50) ?? Number.NaN,
    p99Ms: pct.get(99) ?? Number.NaN,
  };
}

async function scansOf(base: string): Promise<number> {
  const body = await (await fetch(`${base}/metrics`)).text();
  return findSamples(parsePromText(body), "vmaudit_exporter_scans_total")[0]?.value ?? Number.NaN;
}

/** A fresh exporter, warmed up, then REQUESTS requests; its RSS around them. */
async function loadRun(binary: string, dir: string, env: Record<string, string> = {}) {
  const exp = await startExporterProcess(binary, ["--top", "20"], {
    prefix: Object.keys(env).length
      ? ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]
      : [],
  });
  try {
    const url = `${exp.base}/metrics`;
    await fetch(url);
    const rssStartKiB = rssKiB(exp.proc.pid);
    await ab(["-n", String(WARMUP), "-c", String(CONCURRENCY)], url, dir);
    const rssBeforeKiB = rssKiB(exp.proc.pid);
    const run = await ab(["-n", String(REQUESTS), "-c", String(CONCURRENCY)], url, dir);
    const rssAfterKiB = rssKiB(exp.proc.pid);
    // Once more: a leak grows again, a heap that settled does not.
    await ab(["-n", String(REQUESTS), "-c", String(CONCURRENCY)], url, dir);
    const rssAgainKiB = rssKiB(exp.proc.pid);
    return { ...run, rssStartKiB, rssBeforeKiB, rssAfterKiB, rssAgainKiB };
  } finally {
    await exp.stop();
  }
}

export async function benchExporter(binary: string): Promise<ExporterBench | string> {
  const abPath = Bun.which("ab");
  if (!abPath) return "skipped: needs ab (apt install apache2-utils)";
  const dir = mkdtempSync(join(tmpdir(), "vmaudit-bench-exporter-"));
  try {
    const load = await loadRun(binary, dir);

    const exp = await startExporterProcess(binary, ["--top", "20"]);
    let storm: ExporterBench["storm"];
    try {
      const t0 = performance.now();
      const run = await ab(
        ["-t", String(STORM_SECONDS), "-n", "10000000", "-c", String(STORM_CONCURRENCY)],
        `${exp.base}/metrics`,
        dir,
      );
      const scans = await scansOf(exp.base);
      const windowS = (performance.now() - t0) / 1000;
      storm = { ...run, windowS, scans, bound: Math.floor(windowS / MIN_INTERVAL_S) + 1 };
    } finally {
      await exp.stop();
    }

    const noJitRun = await loadRun(binary, dir, { BUN_JSC_useJIT: "0" });
    const { rssStartKiB: _, ...noJit } = noJitRun;
    const noFtlRun = await loadRun(binary, dir, { BUN_JSC_useFTLJIT: "0" });
    const { rssStartKiB: __, ...noFtl } = noFtlRun;
    return { ab: abPath, load, storm, noJit, noFtl };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printExporterBench(b: ExporterBench | string): void {
  if (typeof b === "string") {
    console.log(`exporter load: ${b}`);
    return;
  }
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
  const line = (r: LoadRun) =>
    `${r.requestsPerSecond.toFixed(0)} requests/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.failed} failed of ${r.requests}`;
  const l = b.load;
  console.log(
    `exporter load (ab on 127.0.0.1, GET /metrics, --min-interval ${MIN_INTERVAL_S} s, --top 20)`,
  );
  console.log(`  ${REQUESTS} requests, ${CONCURRENCY} at a time: ${line(l)}`);
  const growth = (l.rssAfterKiB - l.rssBeforeKiB) / 1024;
  console.log(
    `  RSS: ${mib(l.rssStartKiB)} after the first scan, ${mib(l.rssBeforeKiB)} after ${WARMUP} warm-up requests, ${mib(l.rssAfterKiB)} after ${REQUESTS} more: ${signed(growth)} MiB   target <= +${TARGETS.rssGrowthMiB} MiB: ${verdict(growth <= TARGETS.rssGrowthMiB)}`,
  );
  console.log(
    `  RSS after another ${REQUESTS}: ${mib(l.rssAgainKiB)} (${signed((l.rssAgainKiB - l.rssAfterKiB) / 1024)} MiB)`,
  );
  const s = b.storm;
  console.log(
    `  storm: ${STORM_CONCURRENCY} clients for ${STORM_SECONDS} s: ${line(s)}; ${s.scans} scans in ${s.windowS.toFixed(1)} s   target <= ${s.bound} (window / min-interval + 1): ${verdict(s.scans <= s.bound)}`,
  );
  const n = b.noJit;
  console.log(
    `  JIT off (BUN_JSC_useJIT=0, as under MemoryDenyWriteExecute=yes): ${line(n)}; RSS ${mib(n.rssBeforeKiB)} -> ${mib(n.rssAfterKiB)} -> ${mib(n.rssAgainKiB)}`,
  );
  const f = b.noFtl;
  console.log(
    `  FTL tier off (BUN_JSC_useFTLJIT=0): ${line(f)}; RSS ${mib(f.rssBeforeKiB)} -> ${mib(f.rssAfterKiB)} -> ${mib(f.rssAgainKiB)}`,
  );
}
