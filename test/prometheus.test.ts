/**
 * Prometheus output: label escaping and rendering (pure), then the real
 * tools: promtool checks our text, and node_exporter's textfile collector
 * serves it back with the right values.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { runMain } from "../src/cli/run_main.ts";
import { COMMANDS } from "../src/commands/index.ts";
import type { Collected } from "../src/proc/collect.ts";
import { escapeLabelValue, renderPrometheus } from "../src/scan/prometheus.ts";
import { buildScanReport, type ScanReport } from "../src/scan/report.ts";
import { kernelCount, readLimit, runBinary } from "./helpers/env.ts";
import { fakeIo } from "./helpers/fake_io.ts";
import { type Holder, spawnHolder } from "./helpers/holder.ts";
import { makeProcTree, mapsText, removeTree } from "./helpers/proc_tree.ts";
import { findSamples, parsePromText } from "./helpers/prom_text.ts";

/** An app name with everything the format must escape, and more. */
const NASTY = 'my "app" C:\\Program Files\\x \\n not-a-newline\nsecond line {a="b"} é';

function fixtureReport(
  over: { limit?: number | undefined; slab?: boolean; top?: number } = {},
): ScanReport {
  const collected: Collected = {
    procfs: "/proc",
    samples: [
      { pid: 10, vmas: 5000, uid: 0, user: "root", argv: [NASTY, "--x"], comm: undefined },
      { pid: 11, vmas: 300, uid: 0, user: "root", argv: ["/usr/bin/java"], comm: undefined },
      { pid: 12, vmas: 200, uid: 0, user: "root", argv: ["/usr/bin/java"], comm: undefined },
      { pid: 13, vmas: 100, uid: 0, user: "root", argv: ["bash"], comm: undefined },
    ],
    coverage: {
      seen: 6,
      scanned: 4,
      unreadable: 2,
      unreadableProcesses: [],
      vanished: 0,
      kernelThreads: 0,
      errors: {},
      self: 0,
    },
    durationMs: 12.5,
    asRoot: true,
  };
  const limit = "limit" in over ? over.limit : 65530;
  return buildScanReport(
    collected,
    {
      maxMapCount: limit,
      slab:
        over.slab === false
          ? { ok: false, reason: "root only" }
          : { ok: true, slab: { activeObjects: 1000, totalObjects: 1100, objsize: 192 } },
    },
    {
      top: over.top ?? 20,
      headroom: 1.5,
      round: 10000,
      vma: undefined,
      anonymizeUser: undefined,
    },
    new Date("2025-01-01T00:00:00Z"),
  );
}

describe("escapeLabelValue()", () => {
  const cases: [string, string, string][] = [
    ["plain text stays as it is", "java", "java"],
    ["a double quote gets a backslash", 'a"b', 'a\\"b'],
    ["a backslash is doubled", "a\\b", "a\\\\b"],
    ["a line feed becomes \\n", "a\nb", "a\\nb"],
    ["a literal backslash-n is not a newline", "a\\nb", "a\\\\nb"],
    ["several in a row", '\\"\n', '\\\\\\"\\n'],
    ["tabs, braces, commas and UTF-8 stay literal", "a\tb{c},=é", "a\tb{c},=é"],
    ["the empty string", "", ""],
  ];
  for (const [name, input, expected] of cases) {
    test(`${name}`, () => expect(escapeLabelValue(input)).toBe(expected));
  }
});

describe("renderPrometheus()", () => {
  const text = renderPrometheus(fixtureReport());
  const samples = parsePromText(text);

  test("every family has HELP and TYPE gauge before its samples", () => {
    const names = [...new Set(samples.map((s) => s.name))];
    expect(names).toEqual([
      "vmaudit_map_count_limit",
      "vmaudit_process_vmas",
      "vmaudit_app_vmas_max",
      "vmaudit_app_instances",
      "vmaudit_system_vmas",
      "vmaudit_peak_usage_ratio",
      "vmaudit_scan_duration_seconds",
      "vmaudit_processes_unreadable",
      "vmaudit_kernel_vma_slab_bytes",
      "vmaudit_recommended_map_count_limit",
    ]);
    for (const name of names) {
      const help = text.indexOf(`# HELP ${name} `);
      const type = text.indexOf(`# TYPE ${name} gauge\n`);
      const first = text.indexOf(`\n${name}`);
      expect(help).toBeGreaterThanOrEqual(0);
      expect(type).toBeGreaterThan(help);
      expect(first).toBeGreaterThan(type);
    }
  });

  test("values come from the report", () => {
    const one = (name: string) => findSamples(samples, name)[0]?.value;
    expect(one("vmaudit_map_count_limit")).toBe(65530);
    expect(one("vmaudit_system_vmas")).toBe(5600);
    expect(one("vmaudit_peak_usage_ratio")).toBeCloseTo(5000 / 65530, 6);
    expect(one("vmaudit_scan_duration_seconds")).toBe(0.0125);
    expect(one("vmaudit_processes_unreadable")).toBe(2);
    expect(one("vmaudit_kernel_vma_slab_bytes")).toBe(192000);
    expect(one("vmaudit_recommended_map_count_limit")).toBe(65530);
    expect(findSamples(samples, "vmaudit_app_instances", { app: "/usr/bin/java" })[0]?.value).toBe(
      2,
    );
    expect(findSamples(samples, "vmaudit_app_vmas_max", { app: "/usr/bin/java" })[0]?.value).toBe(
      300,
    );
  });

  test("an app name full of quotes, backslashes and a newline reads back exactly", () => {
    const row = findSamples(samples, "vmaudit_process_vmas", { pid: "10" })[0];
    expect(row?.labels.app).toBe(NASTY);
    expect(row?.value).toBe(5000);
    // One line per sample: the newline in the name is escaped, not literal.
    expect(text.split("\n").filter((l) => l.startsWith("vmaudit_process_vmas{")).length).toBe(4);
  });

  test("--top bounds both the process and the application series", () => {
    const s = parsePromText(renderPrometheus(fixtureReport({ top: 1 })));
    expect(findSamples(s, "vmaudit_process_vmas").length).toBe(1);
    expect(findSamples(s, "vmaudit_app_vmas_max").length).toBe(1);
    expect(findSamples(s, "vmaudit_app_instances").length).toBe(1);
  });

  test("unknown values are left out, not exported as zero", () => {
    const s = parsePromText(renderPrometheus(fixtureReport({ limit: undefined, slab: false })));
    expect(findSamples(s, "vmaudit_map_count_limit")).toEqual([]);
    expect(findSamples(s, "vmaudit_peak_usage_ratio")).toEqual([]);
    expect(findSamples(s, "vmaudit_kernel_vma_slab_bytes")).toEqual([]);
    expect(findSamples(s, "vmaudit_system_vmas")[0]?.value).toBe(5600);
  });

  test("has no timestamps, which the textfile collector refuses", () => {
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) {
      // name{labels} value, or name value: exactly one field after the name and labels.
      const after = line.includes("{")
        ? line.slice(line.lastIndexOf("}") + 1).trim()
        : line.split(" ").slice(1).join(" ");
      expect(after.split(" ").length).toBe(1);
    }
  });
});

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

describe("scan --format and --prometheus", () => {
  async function scan(args: string[]) {
    const io = fakeIo();
    const code = await runMain(["scan", ...args], COMMANDS, io);
    return { code, out: io.out, err: io.err };
  }
  let root: string;
  beforeAll(() => {
    root = makeProcTree({
      processes: { 10: { maps: mapsText(40), cmdline: "/usr/bin/java\0" } },
      maxMapCount: "65530",
    });
  });
  afterAll(() => removeTree(root));

  test("--format prometheus prints the metrics and nothing else", async () => {
    const r = await scan(["--procfs", root, "--format", "prometheus"]);
    expect(r.code).toBe(0);
    expect(r.out).toStartWith("# HELP vmaudit_map_count_limit ");
    expect(findSamples(parsePromText(r.out), "vmaudit_process_vmas", { pid: "10" })[0]?.value).toBe(
      40,
    );
  });
  test("--json is --format json", async () => {
    const a = JSON.parse((await scan(["--procfs", root, "--json"])).out);
    const b = JSON.parse((await scan(["--procfs", root, "--format", "json"])).out);
    expect(a.schemaVersion).toBe(1);
    expect(b.topProcesses).toEqual(a.topProcesses);
  });
  const bad: [string[], string][] = [
    [["--format", "xml"], 'Cannot use --format "xml": expected one of text, json, prometheus'],
    [["--json", "--format", "text"], 'Cannot use --json with --format "text"'],
    [["--prometheus", ""], 'Cannot use --prometheus ""'],
  ];
  for (const [args, message] of bad) {
    test(`${args.join(" ")} is a usage error`, async () => {
      const r = await scan(["--procfs", root, ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(message);
    });
  }
  test("--prometheus FILE with --json writes the file and prints the JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmaudit-prom-"));
    try {
      const file = join(dir, "v.prom");
      const r = await scan(["--procfs", root, "--prometheus", file, "--json"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).schemaVersion).toBe(1);
      expect(readFileSync(file, "utf8")).toContain("vmaudit_system_vmas 40\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
