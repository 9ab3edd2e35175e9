/**
 * vmaudit exporter, pure: --listen and its address parser (checked against
 * node:net's), the other flags, routing, log lines, the scan scheduler (a
 * fake clock: a scrape storm is one scan), and the metrics text.
 */
import { describe, expect, test } from "bun:test";
import { isIP } from "node:net";
import { exporterRequest } from "../../src/commands/exporter.run.ts";
import {
  DEFAULT_LISTEN,
  DEFAULT_MIN_INTERVAL_MS,
  EXPORTER_PORT,
  exporterCommand,
  parseListen,
} from "../../src/commands/exporter.ts";
import { isIPv4, isIPv6, parseListenAddress } from "../../src/core/listen_address.ts";
import { UsageError } from "../../src/errors.ts";
import { accessLine, eventLine } from "../../src/exporter/log.ts";
import { renderExporterMetrics } from "../../src/exporter/metrics.ts";
import { INDEX_HTML, pathOf, route } from "../../src/exporter/routes.ts";
import { ScanScheduler } from "../../src/exporter/scheduler.ts";
import { renderPrometheus } from "../../src/scan/prometheus.ts";
import { parsed } from "../helpers/parse_args.ts";
import { findSamples, parsePromText } from "../helpers/prom_text.ts";
import { fixtureReport, NASTY } from "../helpers/scan_report.ts";

describe("--listen ADDRESS:PORT", () => {
  const good: [string, { host: string; port: number; text: string; family: string }][] = [
    [
      "127.0.0.1:10065",
      { host: "127.0.0.1", port: 10065, text: "127.0.0.1:10065", family: "IPv4" },
    ],
    ["0.0.0.0:1", { host: "0.0.0.0", port: 1, text: "0.0.0.0:1", family: "IPv4" }],
    ["[::1]:10065", { host: "::1", port: 10065, text: "[::1]:10065", family: "IPv6" }],
    ["[::]:65535", { host: "::", port: 65535, text: "[::]:65535", family: "IPv6" }],
    [
      "[fe80::1:2]:08080",
      { host: "fe80::1:2", port: 8080, text: "[fe80::1:2]:8080", family: "IPv6" },
    ],
  ];
  for (const [raw, want] of good)
    test(`parseListenAddress("${raw}") reads ${want.text}`, () => {
      expect(parseListenAddress(raw)).toEqual(want as ReturnType<typeof parseListenAddress>);
    });

  const bad: [string, string][] = [
    ["127.0.0.1", "no port"],
    ["127.0.0.1:", "no port"],
    ["[::1]", "no port"],
    ["[::1]:", "no port"],
    ["::1:10065", "an IPv6 address goes in brackets"],
    ["[::1:10065", "no closing bracket"],
    ["[localhost]:10065", '"localhost" is not an IPv6 address'],
    [":10065", "no address"],
    ["10065", "no port"],
    ["localhost:10065", '"localhost" is not an IP address'],
    ["127.1:10065", '"127.1" is not an IP address'],
    ["127.000.0.1:10065", '"127.000.0.1" is not an IP address'],
    ["256.0.0.1:10065", '"256.0.0.1" is not an IP address'],
    ["127.0.0.1:0", "port 0 is outside 1 to 65535"],
    ["127.0.0.1:65536", "port 65536 is outside 1 to 65535"],
    ["127.0.0.1:99999", "port 99999 is outside 1 to 65535"],
    ["127.0.0.1:123456", 'port "123456" is not a number'],
    ["127.0.0.1:-1", 'port "-1" is not a number'],
    ["127.0.0.1:http", 'port "http" is not a number'],
    ["127.0.0.1: 80", 'port " 80" is not a number'],
  ];
  for (const [raw, why] of bad)
    test(`parseListenAddress("${raw}") refuses it: ${why}`, () => {
      expect(parseListenAddress(raw)).toBe(why);
    });

  test("a bad --listen is a usage error of one line that quotes it and says what is expected", () => {
    let error: unknown;
    try {
      parsed(exporterCommand, { listen: "[::1]" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    const message = (error as UsageError).message;
    expect(message).toBe(
      'Cannot use --listen "[::1]": no port; expected ADDRESS:PORT with an IP address and a port from 1 to 65535, such as 127.0.0.1:10065, 0.0.0.0:10065 or [::1]:10065',
    );
    expect(message).not.toContain("\n");
    expect((error as UsageError).code).toBe(2);
  });

  test("the default is loopback on the exporter's port, and is what parsing it gives", () => {
    expect(DEFAULT_LISTEN).toBe(`127.0.0.1:${EXPORTER_PORT}`);
    const defaults = parsed(exporterCommand).options;
    expect(defaults.listen).toEqual(parseListen(DEFAULT_LISTEN, { name: "--listen", command: "" }));
    expect(defaults["min-interval"]).toBe(DEFAULT_MIN_INTERVAL_MS);
  });

  /** Addresses of every shape, with mistakes: node:net's isIP is the reference. */
  function candidates(): string[] {
    const hand = [
      "::",
      "::1",
      "1::",
      "1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7::",
      "::2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      ":1",
      "1:",
      ":::",
      "::ffff:10.0.0.1",
      "::ffff:10.0.0.256",
      "1:2:3:4:5:6:1.2.3.4",
      "1:2:3:4:5:6:7:1.2.3.4",
      "::1.2.3.4",
      "1.2.3.4",
      "01.2.3.4",
      "1.2.3",
      "1.2.3.4.5",
      "12345::",
      "g::",
      "fe80::1%eth0",
      "",
      "0.0.0.0",
      "255.255.255.255",
    ];
    // A seeded generator: the same cases on every run.
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ["0", "1", "a", "F", "ffff", ":", "::", ".", "1.2.3.4", "255", "g", "00000"];
    const random: string[] = [];
    for (let i = 0; i < 5000; i++) {
      let s = "";
      const parts = 1 + next(12);
      for (let j = 0; j < parts; j++) s += alphabet[next(alphabet.length)];
      random.push(s);
    }
    return [...hand, ...random];
  }

  test("isIPv4 and isIPv6 agree with node:net's isIP on 5,000 generated strings", () => {
    // node:net accepts a zone index (fe80::1%eth0); --listen does not.
    const all = candidates();
    const zoned = all.filter((c) => c.includes("%"));
    expect(zoned.length).toBeGreaterThan(0);
    expect(zoned.filter((c) => isIPv6(c))).toEqual([]);
    const disagree = all
      .filter((c) => !c.includes("%"))
      .filter((c) => isIPv4(c) !== (isIP(c) === 4) || isIPv6(c) !== (isIP(c) === 6));
    expect(disagree).toEqual([]);
  });
});

describe("the other flags", () => {
  test("--min-interval is seconds, from 0.1 to a day", () => {
    expect(parsed(exporterCommand, { "min-interval": "0.25" }).options["min-interval"]).toBe(250);
    for (const raw of ["0", "0.05", "86401", "-1", "5s", ""])
      expect(() => parsed(exporterCommand, { "min-interval": raw })).toThrow(UsageError);
  });

  test("exporterRequest: the scan's settings as scan takes them", () => {
    const options = parsed(exporterCommand, {
      listen: "0.0.0.0:9999",
      "min-interval": "2",
      top: "7",
      headroom: "2",
      round: "1",
      vma: "80000",
      procfs: "/host/proc/",
    }).options;
    expect(exporterRequest(options, { SUDO_UID: undefined })).toMatchObject({
      listen: { host: "0.0.0.0", port: 9999 },
      minIntervalMs: 2000,
      scan: { procfs: "/host/proc", top: 7, headroom: 2, round: 1, vma: 80000, peaks: undefined },
    });
  });
});

describe("routing", () => {
  const table: [string, string, ReturnType<typeof route>][] = [
    ["GET", "/", { kind: "page", page: "index" }],
    ["GET", "/metrics", { kind: "page", page: "metrics" }],
    ["HEAD", "/metrics", { kind: "page", page: "metrics" }],
    ["GET", "/healthz", { kind: "page", page: "healthz" }],
    ["HEAD", "/", { kind: "page", page: "index" }],
    ["POST", "/metrics", { kind: "method-not-allowed", allow: "GET, HEAD" }],
    ["DELETE", "/", { kind: "method-not-allowed", allow: "GET, HEAD" }],
    ["OPTIONS", "/healthz", { kind: "method-not-allowed", allow: "GET, HEAD" }],
    ["get", "/metrics", { kind: "method-not-allowed", allow: "GET, HEAD" }],
    ["GET", "/metrics/", { kind: "not-found" }],
    ["GET", "/Metrics", { kind: "not-found" }],
    ["POST", "/nope", { kind: "not-found" }],
    ["GET", "/constructor", { kind: "not-found" }],
    ["GET", "/__proto__", { kind: "not-found" }],
  ];
  for (const [method, path, want] of table)
    test(`${method} ${path}: ${want.kind}`, () => {
      expect(route(method, path)).toEqual(want);
    });

  const paths: [string, string][] = [
    ["http://127.0.0.1:10065/metrics", "/metrics"],
    ["http://127.0.0.1:10065/metrics?debug=1", "/metrics"],
    ["http://[::1]:10065/healthz#x", "/healthz"],
    ["http://host", "/"],
    ["http://host?x", "/"],
    ["/metrics", "/metrics"],
    ["/metrics?x=http://y/z", "/metrics"],
    ["/a://b", "/a://b"],
    ["", "/"],
  ];
  for (const [url, path] of paths)
    test(`pathOf("${url}") is "${path}"`, () => {
      expect(pathOf(url)).toBe(path);
    });

  test("the index page links /metrics relatively", () => {
    expect(INDEX_HTML).toContain('<a href="metrics">');
    expect(INDEX_HTML).toStartWith("<!doctype html>");
  });
});

describe("log lines", () => {
  const at = new Date(Date.UTC(2026, 0, 1));
  test("an access line has the time, client, request, status, bytes, time taken and agent", () => {
    expect(
      accessLine({
        at,
        remote: "127.0.0.1",
        method: "GET",
        path: "/metrics",
        status: 200,
        bytes: 5120,
        ms: 1.25,
        userAgent: "Prometheus/2.42.0",
      }),
    ).toBe('2026-01-01T00:00:00.000Z 127.0.0.1 "GET /metrics" 200 5120 1.3ms "Prometheus/2.42.0"');
  });

  test("control characters and quotes from the client are escaped: one line, fields in place", () => {
    const line = accessLine({
      at,
      remote: "::1",
      method: "GET",
      path: "/a\nb",
      status: 404,
      bytes: 10,
      ms: 0,
      userAgent: 'x\x1b]0;pwned\x07" 200 9 "y\u009b',
    });
    expect(line).toBe(
      '2026-01-01T00:00:00.000Z ::1 "GET /a\\x0ab" 404 10 0.0ms "x\\x1b]0;pwned\\x07\\x22 200 9 \\x22y\\x9b"',
    );
    expect([...line].filter((c) => c < " " || (c >= "\x7f" && c <= "\x9f"))).toEqual([]);
    expect(
      accessLine({
        at,
        remote: "-",
        method: "HEAD",
        path: "/",
        status: 200,
        bytes: 0,
        ms: 0,
        userAgent: null,
      }),
    ).toEndWith('"HEAD /" 200 0 0.0ms "-"');
  });

  test("an event line escapes too", () => {
    expect(eventLine(at, 'scan failed: Cannot scan "/x\ny"')).toBe(
      '2026-01-01T00:00:00.000Z scan failed: Cannot scan "/x\\x0ay"',
    );
  });
});

describe("ScanScheduler", () => {
  function fake(minIntervalMs: number, fail?: (n: number) => boolean) {
    let now = 0;
    let runs = 0;
    const scheduler = new ScanScheduler({
      scan: () => {
        runs++;
        if (fail?.(runs)) throw new Error(`scan ${runs} failed`);
        return `scan ${runs}`;
      },
      minIntervalMs,
      now: () => now,
    });
    return {
      scheduler,
      at(ms: number) {
        now = ms;
      },
      runs: () => runs,
    };
  }

  test("a storm of 1,000 scrapes at one moment is one scan, and every scrape gets it", async () => {
    const f = fake(5000);
    const all = await Promise.all(Array.from({ length: 1000 }, () => f.scheduler.get()));
    expect(f.runs()).toBe(1);
    expect(new Set(all)).toEqual(new Set(["scan 1"]));
  });

  test("scrapes within the interval get the last scan; the first after it scans again", async () => {
    const f = fake(5000);
    expect(await f.scheduler.get()).toBe("scan 1");
    f.at(4999);
    expect(await f.scheduler.get()).toBe("scan 1");
    f.at(5000);
    expect(await f.scheduler.get()).toBe("scan 2");
    f.at(9999);
    expect(await f.scheduler.get()).toBe("scan 2");
    expect(f.scheduler.scans).toBe(2);
  });

  test("scrapes that arrive while a scan runs wait for it, even past the interval", async () => {
    let now = 0;
    let release: (v: string) => void = () => {};
    let runs = 0;
    const scheduler = new ScanScheduler({
      scan: () => {
        runs++;
        return new Promise<string>((r) => {
          release = r;
        });
      },
      minIntervalMs: 100,
      now: () => now,
    });
    const first = scheduler.get();
    now = 500; // the scan is slower than the interval
    const second = scheduler.get();
    expect(runs).toBe(1);
    release("done");
    expect(await Promise.all([first, second])).toEqual(["done", "done"]);
    // Started at 0, finished at 500: the next scrape scans again.
    const third = scheduler.get();
    expect(runs).toBe(2);
    release("again");
    expect(await third).toBe("again");
  });

  test("a failed scan is the answer until the interval has passed, then it is tried again", async () => {
    const f = fake(1000, (n) => n === 1);
    await expect(f.scheduler.get()).rejects.toThrow("scan 1 failed");
    f.at(999);
    await expect(f.scheduler.get()).rejects.toThrow("scan 1 failed");
    expect(f.runs()).toBe(1);
    f.at(1000);
    expect(await f.scheduler.get()).toBe("scan 2");
  });

  test("scrapes at random times: scans start at least the interval apart, at most D / interval + 1 of them", async () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (const interval of [100, 1000, 5000]) {
      let now = 0;
      const starts: number[] = [];
      const scheduler = new ScanScheduler({
        scan: () => {
          starts.push(now);
          return 1;
        },
        minIntervalMs: interval,
        now: () => now,
      });
      const duration = 60_000;
      while (now < duration) {
        await scheduler.get();
        now += next() * interval * 0.3;
      }
      const gaps = starts.slice(1).map((s, i) => s - (starts[i] as number));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(interval);
      expect(starts.length).toBeLessThanOrEqual(Math.floor(duration / interval) + 1);
      // And it does scan again once the interval is over: no scrape waits long for fresh numbers.
      expect(Math.max(...gaps)).toBeLessThan(interval * 1.31);
    }
  });
});

describe("the metrics text", () => {
  const report = fixtureReport();
  const text = renderExporterMetrics(
    report,
    [
      { app: NASTY, vmas: 9000 },
      { app: "java", vmas: 300 },
    ],
    {
      scans: 12,
      errors: 2,
    },
  );

  test("starts with exactly what scan --format prometheus prints", () => {
    expect(text.startsWith(renderPrometheus(report))).toBe(true);
  });

  test("adds the peaks (gauge, escaped labels) and the two counters", () => {
    const samples = parsePromText(text);
    expect(
      findSamples(samples, "vmaudit_app_vmas_peak").map((s) => [s.labels.app, s.value]),
    ).toEqual([
      [NASTY, 9000],
      ["java", 300],
    ]);
    expect(findSamples(samples, "vmaudit_exporter_scans_total")[0]?.value).toBe(12);
    expect(findSamples(samples, "vmaudit_exporter_scan_errors_total")[0]?.value).toBe(2);
    expect(text).toContain("# TYPE vmaudit_app_vmas_peak gauge\n");
    expect(text).toContain("# TYPE vmaudit_exporter_scans_total counter\n");
    expect(text).toContain("# TYPE vmaudit_exporter_scan_errors_total counter\n");
    expect(text.endsWith("\n")).toBe(true);
    expect(text).not.toContain("\n\n");
  });

  test("no peaks yet: the family is left out, the counters stay", () => {
    const none = renderExporterMetrics(report, [], { scans: 1, errors: 0 });
    expect(none).not.toContain("vmaudit_app_vmas_peak");
    expect(none).toContain("vmaudit_exporter_scans_total 1\n");
  });
});
