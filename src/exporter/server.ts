/**
 * `vmaudit exporter`'s HTTP server (Bun.serve): routes (routes.ts), scans
 * through the scheduler (scheduler.ts: at most one per --min-interval,
 * shared by concurrent scrapes), the metrics text (metrics.ts), one log
 * line per request and event on stderr (log.ts), and a clean stop on
 * SIGTERM/SIGINT.
 *
 * What protects it from bad clients is Bun's HTTP parser (measured with Bun
 * 1.4.5, test/e2e/exporter_robust.test.ts): a request line it cannot parse
 * gets 400, headers over 16 KiB in all get 431 (Bun's
 * --max-http-header-size default), and the connection is closed in both
 * cases; a request whose headers are not complete about 10 to 12 s after the
 * connection opened is dropped, however slowly bytes keep coming (a
 * slowloris gains nothing by dribbling); an idle keep-alive connection is
 * closed after IDLE_TIMEOUT_S. None of these reaches the handler, and the
 * server goes on serving. There is no cap on the number of connections: an
 * exporter reachable by untrusted clients belongs behind a firewall (the
 * default address is 127.0.0.1).
 */

import type { ListenAddress } from "../core/listen_address.ts";
import { EXIT_FAILURE, ExitError, errnoCode } from "../errors.ts";
import { isRoot } from "../identity.ts";
import { newScanBuffers } from "../proc/collect.ts";
import { CAP_SYS_PTRACE, hasEffectiveCapability } from "../proc/process.ts";
import { type ScanSystemInput, scanSystem } from "../scan/scan_system.ts";
import { PeakTable } from "../watch/tracker.ts";
import { accessLine, eventLine } from "./log.ts";
import {
  type AppPeak,
  type ExporterCounters,
  METRICS_CONTENT_TYPE,
  renderExporterMetrics,
} from "./metrics.ts";
import { INDEX_HTML, type Page, pathOf, route } from "./routes.ts";
import { ScanScheduler } from "./scheduler.ts";

/** Seconds an idle keep-alive connection stays open (Bun's default, said out loud). */
export const IDLE_TIMEOUT_S = 10;
/** The handler reads no request body; a larger one is refused by Bun with 413. */
const MAX_REQUEST_BODY_BYTES = 64 * 1024;
/**
 * Applications whose peak is remembered, at least. More than are exported
 * (--top), so an application can fall out of the first --top and come back
 * with its true peak (watch/tracker.ts PeakTable.keepHighest); bounded, so
 * a machine that runs ever new program names does not grow the exporter.
 */
const PEAK_APPS_KEPT = 1000;

export interface ExporterSettings {
  listen: ListenAddress;
  minIntervalMs: number;
  /** The scan's settings, as `scan` takes them (procfs, top, headroom, round, vma, peaks, anonymizeUser). */
  scan: ScanSystemInput;
}

export interface ExporterHandle {
  /** The URL it serves, such as `http://127.0.0.1:10065/`. */
  url: string;
  /** Resolves with the signal that stopped it, once stopped. */
  stopped: Promise<string>;
  /** Stop it as SIGTERM would (tests). */
  stop(reason?: string): Promise<void>;
  /** Scans started so far. */
  scans(): number;
}

type Log = (line: string) => void;

/** Bun.serve's failure to listen as one line that says what to do. */
function listenError(err: unknown, listen: ListenAddress): ExitError {
  const code = errnoCode(err);
  const why =
    code === "EADDRINUSE"
      ? "the port is in use (EADDRINUSE): another exporter or program listens there; stop it or pick another port"
      : code === "EADDRNOTAVAIL"
        ? "no interface of this machine has that address (EADDRNOTAVAIL)"
        : code === "EACCES"
          ? "permission denied (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE"
          : (code ?? (err instanceof Error ? err.message : String(err)));
  return new ExitError(EXIT_FAILURE, `Cannot listen on ${listen.text}: ${why}`);
}

/**
 * The scan every scrape shares: count the scans and errors, fold the
 * applications into the peaks, render the metrics once (as bytes, so a
 * scrape only sends them).
 */
function metricsScan(settings: ExporterSettings, log: Log): () => Uint8Array {
  const counters: ExporterCounters = { scans: 0, errors: 0 };
  const peaks = new PeakTable<AppPeak>();
  const buffers = newScanBuffers();
  const encoder = new TextEncoder();
  return () => {
    counters.scans++;
    let report: ReturnType<typeof scanSystem>;
    try {
      report = scanSystem({ ...settings.scan, buffers });
    } catch (err) {
      counters.errors++;
      log(
        eventLine(new Date(), `scan failed: ${err instanceof Error ? err.message : String(err)}`),
      );
      throw err;
    }
    for (const a of report.applications) peaks.offer(a.name, { app: a.name, vmas: a.max });
    peaks.keepHighest(Math.max(PEAK_APPS_KEPT, settings.scan.top));
    return encoder.encode(
      renderExporterMetrics(report, peaks.highest(settings.scan.top), counters),
    );
  };
}

/**
 * What a scan run by this process cannot see, said once at start; nothing
 * for root. With CAP_SYS_PTRACE and no root (the packaged unit: a dynamic
 * user with that one capability) every process's maps are readable, but
 * /proc/slabinfo (mode 0400, root's) is not.
 */
function accessNote(): string | undefined {
  if (isRoot()) return undefined;
  return hasEffectiveCapability(CAP_SYS_PTRACE)
    ? "not root: every process is readable (CAP_SYS_PTRACE), /proc/slabinfo is not, so vmaudit_kernel_vma_slab_bytes is left out"
    : "not root and no CAP_SYS_PTRACE: the maps of other users' processes cannot be read (vmaudit_processes_unreadable counts them)";
}

/**
 * Start serving. Throws an ExitError (exit 1) when the address cannot be
 * listened on. The returned handle's `stopped` resolves on SIGTERM/SIGINT,
 * after the server has stopped.
 *
 * @example
 * const h = startExporter(settings, (line) => io.stderr(`${line}\n`));
 * await h.stopped; // "SIGTERM"
 */
export function startExporter(settings: ExporterSettings, log: Log): ExporterHandle {
  const scheduler = new ScanScheduler({
    scan: metricsScan(settings, log),
    minIntervalMs: settings.minIntervalMs,
  });
  const encoder = new TextEncoder();
  const index = encoder.encode(INDEX_HTML);
  /** A response and its body's length, for the access log. */
  const reply = (
    body: Uint8Array | string,
    status: number,
    headers: Record<string, string> = {},
  ): { res: Response; bytes: number } => {
    const bytes = typeof body === "string" ? encoder.encode(body) : body;
    return {
      res: new Response(bytes, {
        status,
        headers: { "content-type": "text/plain; charset=utf-8", ...headers },
      }),
      bytes: bytes.length,
    };
  };

  const answer = async (page: Page): Promise<{ res: Response; bytes: number }> => {
    switch (page) {
      case "index":
        return reply(index, 200, { "content-type": "text/html; charset=utf-8" });
      case "healthz":
        return reply("ok\n", 200);
      case "metrics":
        try {
          return reply(await scheduler.get(), 200, {
            "content-type": METRICS_CONTENT_TYPE,
            "cache-control": "no-store",
          });
        } catch (err) {
          // Stale numbers that look fresh are worse for a limit alarm than
          // a failed scrape (up == 0): answer 500 until a scan succeeds.
          const message = err instanceof Error ? err.message : String(err);
          return reply(`scan failed: ${message}\n`, 500);
        }
    }
  };

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: settings.listen.host,
      port: settings.listen.port,
      // Never share the port with another process: a second exporter must
      // fail to start, not take half the scrapes.
      reusePort: false,
      ipv6Only: false,
      idleTimeout: IDLE_TIMEOUT_S,
      maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
      development: false,
      async fetch(req, srv) {
        const t0 = performance.now();
        const path = pathOf(req.url);
        const routing = route(req.method, path);
        const { res, bytes } =
          routing.kind === "page"
            ? await answer(routing.page)
            : routing.kind === "not-found"
              ? reply("not found\n", 404)
              : reply("method not allowed\n", 405, { allow: routing.allow });
        log(
          accessLine({
            at: new Date(),
            remote: srv.requestIP(req)?.address ?? "-",
            method: req.method,
            path,
            status: res.status,
            bytes: req.method === "HEAD" ? 0 : bytes,
            ms: performance.now() - t0,
            userAgent: req.headers.get("user-agent"),
          }),
        );
        return res;
      },
      error(err) {
        log(eventLine(new Date(), `internal error: ${err.message}`));
        return reply("internal error\n", 500).res;
      },
    });
  } catch (err) {
    throw listenError(err, settings.listen);
  }

  let resolveStopped: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    resolveStopped = resolve;
  });
  let stopping: Promise<void> | undefined;
  const stop = (reason = "SIGTERM"): Promise<void> => {
    stopping ??= (async () => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      log(eventLine(new Date(), `stopping (${reason})`));
      await server.stop(true);
      resolveStopped(reason);
    })();
    return stopping;
  };
  const onTerm = () => void stop("SIGTERM");
  const onInt = () => void stop("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);

  // The port the socket got (a test may ask for port 0: any free one).
  const host =
    settings.listen.family === "IPv6" ? `[${settings.listen.host}]` : settings.listen.host;
  const url = `http://${host}:${server.port}/`;
  log(
    eventLine(
      new Date(),
      `listening on ${url} (procfs ${settings.scan.procfs}, at most one scan per ${settings.minIntervalMs / 1000} s)`,
    ),
  );
  const access = accessNote();
  if (access) log(eventLine(new Date(), access));
  return { url, stopped, stop, scans: () => scheduler.scans };
}
