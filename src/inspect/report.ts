/**
 * The inspect report: one process's VMAs by group, its top files and its room
 * under the limit. Pure: built from the maps text and facts read elsewhere.
 */
import { anonymizer } from "../core/anonymize.ts";
import { type AppKind, hiddenAppOf } from "../core/app_name.ts";
import { type Headroom, headroomUnder } from "../core/recommend.ts";
import { countVmas } from "../core/vma_counter.ts";
import {
  classifyEntries,
  GROUP_LABELS,
  GROUP_MEANINGS,
  type GroupId,
  type MapsEntry,
  parseMapsLine,
} from "./classify.ts";

export const INSPECT_SCHEMA_VERSION = 1;

export interface GroupRow {
  id: GroupId;
  label: string;
  count: number;
  /** count / lines x 100. */
  sharePercent: number;
  /** Virtual size in bytes. */
  bytes: number;
}

export interface FileRow {
  path: string;
  count: number;
  bytes: number;
}

export interface InspectReport {
  schemaVersion: typeof INSPECT_SCHEMA_VERSION;
  generatedAt: string;
  procfs: string;
  pid: number;
  app: string;
  appKind: AppKind;
  argv: string[];
  commandLine: string;
  /** The kernel's map_count: what the limit applies to. */
  vmas: number;
  /** Lines of maps; one more than vmas when [vsyscall] is listed (it is not a VMA of the process). */
  lines: number;
  maxMapCount: number | null;
  /** Room under the live limit; null when it cannot be read. */
  limit: Headroom | null;
  /** Every group, biggest first. */
  groups: GroupRow[];
  /** Distinct file paths mapped. */
  distinctFiles: number;
  /** The files with the most mappings (`--top-files`). */
  topFiles: FileRow[];
  biggestGroup: GroupId | null;
  /** What the biggest group usually means. */
  hint: string | null;
}

export interface InspectInput {
  procfs: string;
  pid: number;
  mapsText: string;
  argv: string[];
  comm: string | undefined;
  /** Where /proc/PID/exe points, when an argument ends in .exe (Wine or not). */
  exe?: string;
  maxMapCount: number | undefined;
  topFiles: number;
  anonymizeUser: string | undefined;
}

/**
 * Build the report from a maps text.
 *
 * @example
 * buildInspectReport({ procfs: "/proc", pid: 1, mapsText, argv: ["x"], comm: undefined, maxMapCount: 65530, topFiles: 10, anonymizeUser: undefined }, new Date());
 */
export function buildInspectReport(input: InspectInput, now: Date): InspectReport {
  const entries = input.mapsText
    .split("\n")
    .map(parseMapsLine)
    .filter((e): e is MapsEntry => e !== undefined);
  const groupOf = classifyEntries(entries);
  const counts = new Map<GroupId, { count: number; bytes: number }>();
  for (const id of Object.keys(GROUP_LABELS) as GroupId[]) counts.set(id, { count: 0, bytes: 0 });
  const files = new Map<string, FileRow>();
  entries.forEach((e, i) => {
    const id = groupOf[i] as GroupId;
    const size = Number(e.end - e.start);
    const g = counts.get(id) as { count: number; bytes: number };
    g.count++;
    g.bytes += size;
    if (id === "file") {
      const f = files.get(e.path) ?? { path: e.path, count: 0, bytes: 0 };
      f.count++;
      f.bytes += size;
      files.set(e.path, f);
    }
  });
  const lines = entries.length;
  const groups: GroupRow[] = [...counts.entries()]
    .map(([id, g]) => ({
      id,
      label: GROUP_LABELS[id],
      count: g.count,
      sharePercent: lines ? (g.count / lines) * 100 : 0,
      bytes: g.bytes,
    }))
    .sort((a, b) => b.count - a.count);
  const hide = anonymizer(input.anonymizeUser);
  const app = hiddenAppOf(
    {
      pid: input.pid,
      argv: input.argv,
      comm: input.comm,
      ...(input.exe ? { exe: input.exe } : {}),
    },
    hide,
  );
  const argv = input.argv.map(hide);
  const vmas = countVmas(Buffer.from(input.mapsText));
  const biggest = groups[0] && groups[0].count > 0 ? groups[0].id : null;
  return {
    schemaVersion: INSPECT_SCHEMA_VERSION,
    generatedAt: now.toISOString(),
    procfs: input.procfs,
    pid: input.pid,
    app: app.name,
    appKind: app.kind,
    argv,
    commandLine: argv.length ? argv.join(" ") : `[${input.comm ?? `pid ${input.pid}`}]`,
    vmas,
    lines,
    maxMapCount: input.maxMapCount ?? null,
    limit: input.maxMapCount === undefined ? null : headroomUnder(input.maxMapCount, vmas),
    groups,
    distinctFiles: files.size,
    topFiles: [...files.values()]
      .sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1))
      .slice(0, input.topFiles)
      .map((f) => ({ ...f, path: hide(f.path) })),
    biggestGroup: biggest,
    hint: biggest ? GROUP_MEANINGS[biggest] : null,
  };
}
