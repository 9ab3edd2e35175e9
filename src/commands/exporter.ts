/**
 * `vmaudit exporter`: serve the metrics of `scan --format prometheus` over
 * HTTP for Prometheus to scrape, in the style of node_exporter. The
 * command's metadata and typed options; `exporter.run.ts` does the work.
 *
 * {@link EXPORTER_PORT} is the one place the port is written: the image's
 * default command (scripts/image.ts), the packaged systemd unit
 * (scripts/package_meta.ts fills it in) and the tests import it.
 */
import {
  COMMON_EXIT_CODES,
  type CommandInput,
  defineCommand,
  type ParseContext,
} from "../cli/command.ts";
import { PROCFS_OPTION, RECOMMEND_OPTIONS } from "../cli/common_options.ts";
import { custom, int } from "../cli/options.ts";
import { parseDecimal } from "../cli/values.ts";
import { LISTEN_EXPECTED, type ListenAddress, parseListenAddress } from "../core/listen_address.ts";
import { UsageError } from "../errors.ts";

/**
 * The exporter's port. The Prometheus wiki's "Default port allocations" has
 * no free number left in 9100-9999 (every one names an exporter), so vmaudit
 * takes one above it that is none of the well-known ports of a Kubernetes
 * node (kubelet 10248/10250/10255, kube-proxy 10249/10256, controller
 * manager 10257, scheduler 10259) nor of Zabbix (10050/10051) or Webmin
 * (10000). To be registered on that wiki page.
 */
export const EXPORTER_PORT = 10065;

/** Loopback by default: the metrics name the processes of the machine. */
export const DEFAULT_LISTEN = `127.0.0.1:${EXPORTER_PORT}`;

const DEFAULT_TOP = 20;
export const DEFAULT_MIN_INTERVAL_MS = 5000;
/** Below this a scrape storm could keep the machine busy walking /proc. */
export const MIN_MIN_INTERVAL_MS = 100;
/** A day: any longer and the metrics are no longer a view of the machine. */
export const MAX_MIN_INTERVAL_MS = 86_400_000;

/** `--listen`: an IP address and a port (core/listen_address.ts). */
export function parseListen(raw: string, at: ParseContext): ListenAddress {
  const parsed = parseListenAddress(raw);
  if (typeof parsed === "string")
    throw new UsageError(
      `Cannot use ${at.name} "${raw}": ${parsed}; expected ${LISTEN_EXPECTED}`,
      at.command,
    );
  return parsed;
}

function parseMinInterval(raw: string, at: ParseContext): number {
  const ms = Math.round(parseDecimal(at.name, raw, at.command) * 1000);
  if (ms < MIN_MIN_INTERVAL_MS || ms > MAX_MIN_INTERVAL_MS)
    throw new UsageError(
      `Cannot use ${at.name} "${raw}": expected seconds from ${MIN_MIN_INTERVAL_MS / 1000} to ${MAX_MIN_INTERVAL_MS / 1000}`,
      at.command,
    );
  return ms;
}

const options = {
  listen: custom({
    placeholder: "ADDRESS:PORT",
    description: "Serve on this IP address and port; 0.0.0.0 or [::] for every address",
    // DEFAULT_LISTEN, parsed (a unit test checks they agree): nothing to run at start-up.
    default: { host: "127.0.0.1", port: EXPORTER_PORT, text: DEFAULT_LISTEN, family: "IPv4" },
    defaultText: DEFAULT_LISTEN,
    parse: parseListen,
  }),
  "min-interval": custom({
    placeholder: "SECONDS",
    description: "Scan at most once per this many seconds; scrapes in between get the last scan",
    default: DEFAULT_MIN_INTERVAL_MS,
    defaultText: String(DEFAULT_MIN_INTERVAL_MS / 1000),
    parse: parseMinInterval,
  }),
  top: int({
    placeholder: "N",
    description: "Processes and applications to export (bounds the series)",
    default: DEFAULT_TOP,
  }),
  ...RECOMMEND_OPTIONS,
  ...PROCFS_OPTION,
};

export type ExporterRun = CommandInput<typeof options>;

export const exporterCommand = defineCommand({
  name: "exporter",
  summary: "Serve the scan's Prometheus metrics over HTTP (/metrics)",
  description: `
A long-running HTTP server for Prometheus, like node_exporter. GET /metrics
scans every process (at most once per --min-interval; scrapes in between, and
scrapes that arrive during a scan, get that scan) and returns the metrics of
'vmaudit scan --format prometheus', plus the peak VMA count of each
application since the exporter started (vmaudit_app_vmas_peak) and the
counters vmaudit_exporter_scans_total and vmaudit_exporter_scan_errors_total.
A failed scan answers 500 until the next scan succeeds. GET /healthz answers
"ok"; GET / links to /metrics. HEAD works where GET does; other methods get
405, other paths 404.

It listens on ${DEFAULT_LISTEN} unless told otherwise (the metrics name your
processes); use --listen 0.0.0.0:${EXPORTER_PORT} in a pod. Run as root (or with
CAP_SYS_PTRACE) to see every process. Logs go to stderr, one line each.
SIGTERM or SIGINT stops it (exit 0).`,
  options,
  examples: [
    "sudo vmaudit exporter",
    `sudo vmaudit exporter --listen 0.0.0.0:${EXPORTER_PORT} --procfs /host/proc`,
    `curl -s http://127.0.0.1:${EXPORTER_PORT}/metrics`,
  ],
  exitCodes: [
    { code: 0, meaning: "stopped by SIGTERM or SIGINT" },
    {
      code: 1,
      meaning: "the proc root cannot be scanned at start, or the address cannot be listened on",
    },
    COMMON_EXIT_CODES.usage,
  ],
  load: () => import("./exporter.run.ts"),
});
