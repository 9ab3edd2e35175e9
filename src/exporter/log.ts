/**
 * The exporter's log lines: one line each, on stderr. Pure: they return the
 * line. A request's method, path and User-Agent come from whoever connects,
 * so they are shown with control characters escaped (as `\xHH`, see
 * render/terminal_text.ts) and double quotes as `\x22`: a line stays one
 * line, and its quoted fields stay where they are.
 */
import { escapeControl } from "../render/terminal_text.ts";

/** Untrusted text for a quoted log field. */
function field(text: string): string {
  return escapeControl(text).replaceAll('"', "\\x22");
}

export interface AccessEntry {
  at: Date;
  /** The client's address, or "-" when not known. */
  remote: string;
  method: string;
  path: string;
  status: number;
  /** Body bytes sent (0 for HEAD). */
  bytes: number;
  ms: number;
  userAgent: string | null;
}

/**
 * @example
 * accessLine({ at, remote: "127.0.0.1", method: "GET", path: "/metrics", status: 200, bytes: 5120, ms: 1.25, userAgent: "Prometheus/2.42.0" });
 * // '2026-01-01T00:00:00.000Z 127.0.0.1 "GET /metrics" 200 5120 1.3ms "Prometheus/2.42.0"'
 */
export function accessLine(e: AccessEntry): string {
  return `${e.at.toISOString()} ${field(e.remote)} "${field(e.method)} ${field(e.path)}" ${e.status} ${e.bytes} ${e.ms.toFixed(1)}ms "${field(e.userAgent ?? "-")}"`;
}

/**
 * Any other event: start, stop, a failed scan.
 *
 * @example
 * eventLine(at, "scan failed: Cannot scan \"/host/proc\": ENOENT");
 * // '2026-01-01T00:00:00.000Z scan failed: Cannot scan "/host/proc": ENOENT'
 */
export function eventLine(at: Date, message: string): string {
  return `${at.toISOString()} ${escapeControl(message)}`;
}
