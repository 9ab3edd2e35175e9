/**
 * Which answer a request gets, from its method and target alone. Pure.
 *
 * - GET / (a small HTML page linking /metrics), GET /metrics, GET /healthz;
 * - HEAD on each of them: the same status and headers as GET, without the
 *   body (RFC 9110 9.3.2; curl -I and load balancers' checks use it). HEAD
 *   /metrics is a scrape like GET: it may start a scan, within
 *   --min-interval like any other;
 * - another method on those paths: 405 with `Allow: GET, HEAD`;
 * - any other path: 404, whatever the method. The query string is ignored.
 */
import { VERSION } from "../version.ts";

export type Page = "index" | "metrics" | "healthz";

export type Routing =
  | { kind: "page"; page: Page }
  | { kind: "not-found" }
  | { kind: "method-not-allowed"; allow: string };

const PAGES: Readonly<Record<string, Page>> = {
  "/": "index",
  "/metrics": "metrics",
  "/healthz": "healthz",
};

export const ALLOWED_METHODS = "GET, HEAD";

/**
 * The path of a request target, without query or fragment. Bun gives an
 * absolute URL (`http://host/metrics?x`), or the bare target when the
 * request had no Host (`/metrics`, HTTP/1.0).
 *
 * @example
 * pathOf("http://127.0.0.1:10065/metrics?debug=1"); // "/metrics"
 * pathOf("/healthz"); // "/healthz"
 */
export function pathOf(url: string): string {
  let start = 0;
  const scheme = url.indexOf("://");
  if (scheme >= 0 && scheme < url.indexOf("/")) {
    const slash = url.indexOf("/", scheme + 3);
    if (slash < 0) return "/";
    start = slash;
  }
  let end = url.length;
  for (const c of ["?", "#"]) {
    const i = url.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  return url.slice(start, end) || "/";
}

/**
 * @example
 * route("GET", "/metrics"); // { kind: "page", page: "metrics" }
 * route("POST", "/metrics"); // { kind: "method-not-allowed", allow: "GET, HEAD" }
 * route("GET", "/favicon.ico"); // { kind: "not-found" }
 */
export function route(method: string, path: string): Routing {
  const page = Object.hasOwn(PAGES, path) ? PAGES[path] : undefined;
  if (page === undefined) return { kind: "not-found" };
  if (method !== "GET" && method !== "HEAD")
    return { kind: "method-not-allowed", allow: ALLOWED_METHODS };
  return { kind: "page", page };
}

/** GET /: what this is and where the metrics are (relative links: it works behind a path prefix). */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>vmaudit exporter</title></head>
<body>
<h1>vmaudit exporter</h1>
<p>vmaudit ${VERSION}: the VMA count of every process and vm.max_map_count, for Prometheus.</p>
<ul>
<li><a href="metrics">metrics</a></li>
<li><a href="healthz">healthz</a></li>
</ul>
</body>
</html>
`;
