/**
 * `vmaudit exporter` against bad clients, over raw TCP: a garbage request
 * line, huge headers, a body too large, clients that never finish their
 * request (one silent, one dribbling a header line every half second, as
 * slowloris does), and control characters in what gets logged. After each
 * the exporter still answers; the slow clients are cut off by the server
 * while other scrapes are served at full speed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { binary } from "../helpers/env.ts";
import { type RunningExporter, startExporterProcess } from "../helpers/exporter.ts";

let exp: RunningExporter;
beforeAll(async () => {
  exp = await startExporterProcess(binary(), ["--min-interval", "1"]);
});
afterAll(async () => {
  expect(await exp?.stop()).toBe(0);
});

interface RawReply {
  /** Everything the server sent before it closed (or before `waitMs`). */
  text: string;
  closed: boolean;
  ms: number;
}

/** Send `data` on a new connection; collect the reply until the server closes or `waitMs` passes. */
function raw(data: string | Buffer, waitMs = 3000): Promise<RawReply> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    const socket = connect(exp.port, "127.0.0.1", () => socket.write(data));
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({
        text: Buffer.concat(chunks).toString("latin1"),
        closed,
        ms: performance.now() - t0,
      });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => done(true));
    socket.on("close", () => done(true));
    socket.on("error", () => done(true));
  });
}

async function stillServes(): Promise<void> {
  const res = await fetch(`${exp.base}/metrics`);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain("vmaudit_exporter_scans_total");
}

const statusOf = (r: RawReply) => /^HTTP\/1\.1 (\d{3})/.exec(r.text)?.[1];

describe("malformed requests get an error and a closed connection; the exporter serves on", () => {
  const cases: [string, string | Buffer, string][] = [
    ["a garbage request line", "GARBAGE\r\n\r\n", "400"],
    ["a request line with a control character", "GET /a\x1bb HTTP/1.1\r\nHost: x\r\n\r\n", "505"],
    ["OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "400"],
    ["binary noise", Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256)), "400"],
    [
      "one 20 KiB header (over Bun's 16 KiB)",
      `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`,
      "431",
    ],
    [
      "300 headers",
      `GET /metrics HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 300 }, (_, i) => `X-${i}: y\r\n`).join("")}\r\n`,
      "431",
    ],
    [
      "a header value with an escape character",
      "GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x1bb\r\n\r\n",
      "400",
    ],
  ];
  for (const [name, data, status] of cases)
    test(`${name}: ${status}, closed`, async () => {
      const r = await raw(data);
      expect(statusOf(r)).toBe(status);
      expect(r.closed).toBe(true);
      await stillServes();
    });

  test("a body over 64 KiB: refused (413) before the handler, which never reads bodies", async () => {
    const body = "x".repeat(100 * 1024);
    const r = await raw(
      `POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(statusOf(r)).toBe("413");
    await stillServes();
  });
});

describe("clients that never finish their request", () => {
  test("are cut off by the server within 20 s, while other scrapes are served at once", async () => {
    const silent: Promise<RawReply>[] = [];
    for (let i = 0; i < 20; i++) silent.push(raw("GET /metrics HTTP/1.1\r\nHost: x\r\n", 30_000));
    // Slowloris: a header line every half second, forever.
    const dribbler = new Promise<RawReply>((resolve) => {
      const t0 = performance.now();
      let timer: ReturnType<typeof setInterval> | undefined;
      const socket: Socket = connect(exp.port, "127.0.0.1", () => {
        socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
        timer = setInterval(() => socket.write("X-a: b\r\n"), 500);
      });
      const done = (closed: boolean) => {
        clearInterval(timer);
        socket.destroy();
        resolve({ text: "", closed, ms: performance.now() - t0 });
      };
      const stop = setTimeout(() => done(false), 30_000);
      socket.on("close", () => {
        clearTimeout(stop);
        done(true);
      });
      socket.on("error", () => {});
    });
    // Meanwhile, scrapes go on as usual.
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await stillServes();
      latencies.push(performance.now() - t0);
      await Bun.sleep(300);
    }
    const [slow, drip] = [await Promise.all(silent), await dribbler];
    console.log(
      `silent clients closed after ${Math.round(Math.max(...slow.map((s) => s.ms)))} ms, the dribbling one after ${Math.round(drip.ms)} ms; scrapes meanwhile took at most ${Math.max(...latencies).toFixed(1)} ms`,
    );
    expect(slow.every((s) => s.closed && s.ms < 20_000)).toBe(true);
    expect(slow.every((s) => s.text === "")).toBe(true);
    expect(drip.closed).toBe(true);
    expect(drip.ms).toBeLessThan(20_000);
    expect(Math.max(...latencies)).toBeLessThan(1000);
    await stillServes();
  }, 40_000);
});

describe("the log", () => {
  test("a C1 control character in the User-Agent is logged escaped, on one line", async () => {
    // UTF-8 bytes of U+009B (CSI): allowed in a header (obs-text), read by Bun as two Latin-1 characters.
    const r = await raw(
      Buffer.concat([
        Buffer.from("GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: evil"),
        Buffer.from([0xc2, 0x9b]),
        Buffer.from('31m" 200 1 "x\r\nConnection: close\r\n\r\n'),
      ]),
    );
    expect(statusOf(r)).toBe("200");
    await Bun.sleep(50);
    const line = exp.log().find((l) => l.includes("evil"));
    expect(line).toBeDefined();
    expect(line?.replace(/ \d+\.\dms /, " T ")).toEndWith(
      '"GET /healthz" 200 3 T "evil\u00c2\\x9b31m\\x22 200 1 \\x22x"',
    );
    expect([...(line ?? "")].some((c) => c < " " || (c >= "\x7f" && c <= "\x9f"))).toBe(false);
  });
});
