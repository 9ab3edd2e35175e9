/**
 * Prometheus output, pure: label escaping and the rendering of a scan report.
 */
import { describe, expect, test } from "bun:test";
import { escapeLabelValue, renderPrometheus } from "../../src/scan/prometheus.ts";
import { findSamples, parsePromText } from "../helpers/prom_text.ts";
import { fixtureReport, NASTY } from "../helpers/scan_report.ts";

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
