/**
 * One `vmaudit scan --json` report as `vmaudit fleet` reads it: checked
 * against the scan report's shape (schema 1, src/scan/report.ts), keeping
 * only what the fleet needs. Pure.
 *
 * Forward compatible: fields this version does not know are ignored, and so
 * is a recommendation with a basis it does not know. A field it needs with
 * the wrong type or out of range makes the report corrupt; JSON that is not a
 * scan report at all is foreign.
 */
import { INT_MAX, PID_MAX_LIMIT } from "../core/kernel_limits.ts";
import type { RecommendationRow } from "../core/recommend.ts";
import {
  type AppStats,
  type ProcessRow,
  SCAN_SCHEMA_VERSION,
  type ScanReport,
} from "../scan/report.ts";

/** A process that only calls mmap can reach limit + 1 VMAs, and the limit is at most INT_MAX. */
const MAX_VMAS = INT_MAX + 1;

const KNOWN_BASES: ReadonlySet<string> = new Set<RecommendationRow["basis"]>([
  "top-process",
  "expected-peak",
  "recorded-peak",
  "watched-peak",
]);

/** The peak a report recommended from: its busiest process, `--vma`, or a `--peaks` file. */
export type ReportPeak = Pick<RecommendationRow, "basis" | "pid" | "app" | "peak">;

/** What the fleet keeps of one scan report. */
export interface HostReport
  extends Pick<ScanReport, "generatedAt" | "host" | "kernelRelease" | "bootId" | "maxMapCount"> {
  /** Where it was read: a path, or `-:LINE` for a line of stdin. */
  source: string;
  /** `generatedAt` in milliseconds since the epoch. */
  generatedMs: number;
  /** The first of `topProcesses`, or null when the scan read no process. */
  busiest: Pick<ProcessRow, "pid" | "app" | "vmas"> | null;
  applications: (Pick<AppStats, "name" | "instances" | "max" | "total"> & { kind: string })[];
  /** The peaks of the report's `recommendations` whose basis this version knows. */
  peaks: ReportPeak[];
  /** `kernel.vmaSlab.objsize`, when the scan could read slabinfo. */
  objsize: number | undefined;
}

/** The reason for text that does not parse. */
export const NOT_JSON = "it is not valid JSON";

export type ParsedReport = { ok: true; report: HostReport } | { ok: false; reason: string };

/** Thrown inside the checks below; the message says which field is wrong and how. */
class Corrupt extends Error {}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value for a message: JSON, and short (a hostile report may hold megabytes). */
function shown(v: unknown): string {
  const text = v === undefined ? "missing" : JSON.stringify(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function field(o: Json, key: string, at: string): unknown {
  if (!(key in o)) throw new Corrupt(`"${at}${key}" is missing`);
  return o[key];
}

function wholeNumber(o: Json, key: string, at: string, min: number, max: number): number {
  const v = field(o, key, at);
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max)
    throw new Corrupt(
      `"${at}${key}" is ${shown(v)}, expected a whole number from ${min} to ${max}`,
    );
  return v as number;
}

function wholeOrNull(o: Json, key: string, at: string, min: number, max: number): number | null {
  return field(o, key, at) === null ? null : wholeNumber(o, key, at, min, max);
}

function text(o: Json, key: string, at: string): string {
  const v = field(o, key, at);
  if (typeof v !== "string") throw new Corrupt(`"${at}${key}" is ${shown(v)}, expected a string`);
  return v;
}

function textOrNull(o: Json, key: string, at: string): string | null {
  return field(o, key, at) === null ? null : text(o, key, at);
}

function list(o: Json, key: string): Json[] {
  const v = field(o, key, "");
  if (!Array.isArray(v)) throw new Corrupt(`"${key}" is ${shown(v)}, expected a list`);
  return v.map((item, i) => {
    if (!isObject(item)) throw new Corrupt(`"${key}[${i}]" is ${shown(item)}, expected an object`);
    return item;
  });
}

/** Why a JSON value is not a scan report at all, or undefined when it looks like one. */
function foreignReason(data: unknown): string | undefined {
  if (isObject(data) && data.limitScope === "per-process" && "topProcesses" in data)
    return undefined;
  if (isObject(data) && data.kind === "vmaudit-peaks")
    return "it is a vmaudit peaks file (watch --save), not a scan report";
  if (isObject(data) && data.kind === "vmaudit-fleet")
    return "it is a vmaudit fleet report, not a scan report";
  return "it is not a vmaudit scan report (expected the output of 'vmaudit scan --json')";
}

/** The checks, on an object that claims to be a scan report. Throws Corrupt. */
function hostReportOf(o: Json, source: string): HostReport {
  const generatedAt = text(o, "generatedAt", "");
  const generatedMs = Date.parse(generatedAt);
  if (!Number.isFinite(generatedMs))
    throw new Corrupt(`"generatedAt" is ${shown(generatedAt)}, expected an ISO date and time`);
  const top = list(o, "topProcesses").map((p, i) => {
    const at = `topProcesses[${i}].`;
    return {
      pid: wholeNumber(p, "pid", at, 1, PID_MAX_LIMIT),
      app: text(p, "app", at),
      vmas: wholeNumber(p, "vmas", at, 0, MAX_VMAS),
    };
  });
  const applications = list(o, "applications").map((a, i) => {
    const at = `applications[${i}].`;
    return {
      name: text(a, "name", at),
      kind: text(a, "kind", at),
      instances: wholeNumber(a, "instances", at, 1, Number.MAX_SAFE_INTEGER),
      max: wholeNumber(a, "max", at, 0, MAX_VMAS),
      total: wholeNumber(a, "total", at, 0, Number.MAX_SAFE_INTEGER),
    };
  });
  const peaks: ReportPeak[] = [];
  list(o, "recommendations").forEach((r, i) => {
    const at = `recommendations[${i}].`;
    const basis = text(r, "basis", at);
    const peak = {
      basis: basis as ReportPeak["basis"],
      pid: wholeOrNull(r, "pid", at, 1, PID_MAX_LIMIT),
      app: textOrNull(r, "app", at),
      peak: wholeNumber(r, "peak", at, 1, MAX_VMAS),
    };
    if (KNOWN_BASES.has(basis)) peaks.push(peak);
  });
  const kernel = field(o, "kernel", "");
  if (!isObject(kernel)) throw new Corrupt(`"kernel" is ${shown(kernel)}, expected an object`);
  const slab = kernel.vmaSlab;
  if (slab !== undefined && slab !== null && !isObject(slab))
    throw new Corrupt(`"kernel.vmaSlab" is ${shown(slab)}, expected an object or null`);
  return {
    source,
    generatedAt,
    generatedMs,
    host: textOrNull(o, "host", ""),
    kernelRelease: textOrNull(o, "kernelRelease", ""),
    bootId: textOrNull(o, "bootId", ""),
    maxMapCount: wholeOrNull(o, "maxMapCount", "", 0, INT_MAX),
    busiest: top[0] ?? null,
    applications,
    peaks,
    objsize: isObject(slab)
      ? wholeNumber(slab, "objsize", "kernel.vmaSlab.", 1, 1 << 20)
      : undefined,
  };
}

/**
 * Check the text of one scan report and keep what the fleet needs, or say
 * why it cannot be used.
 *
 * @example
 * parseHostReport(readFileSync("web-1.json", "utf8"), "web-1.json");
 * // { ok: true, report: { host: "web-1", maxMapCount: 65530, busiest: { pid: 4242, ... }, ... } }
 * parseHostReport("{}", "x.json");
 * // { ok: false, reason: "it is not a vmaudit scan report (expected the output of 'vmaudit scan --json')" }
 */
export function parseHostReport(text: string, source: string): ParsedReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, reason: NOT_JSON };
  }
  const foreign = foreignReason(data);
  if (foreign) return { ok: false, reason: foreign };
  const o = data as Json;
  if (o.schemaVersion !== SCAN_SCHEMA_VERSION)
    return {
      ok: false,
      reason: `schemaVersion ${shown(o.schemaVersion)} is not supported (expected ${SCAN_SCHEMA_VERSION})`,
    };
  const unnamed = ["host", "kernelRelease", "bootId"].find((key) => !(key in o));
  if (unnamed !== undefined)
    return {
      ok: false,
      reason: `it has no "${unnamed}": it comes from a vmaudit that did not record its host yet; scan again with this version`,
    };
  try {
    return { ok: true, report: hostReportOf(o, source) };
  } catch (err) {
    if (err instanceof Corrupt)
      return { ok: false, reason: `${err.message}, so the report is corrupt` };
    throw err;
  }
}
