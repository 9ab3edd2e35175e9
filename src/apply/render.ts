/**
 * Text and JSON renderings of `vmaudit apply` results. Pure: they return
 * strings.
 */

import { withRoot } from "../fs/root_path.ts";
import type { Palette } from "../render/color.ts";
import { renderTable } from "../render/table.ts";
import { escapeControlLines, escapeControl as t } from "../render/terminal_text.ts";
import {
  type BootAnalysis,
  type KeySetting,
  type Override,
  type ReaderOutcome,
  type Shadowed,
  SYSCTL_CONF,
  type SysctlReader,
} from "../sysctl/precedence.ts";
import type { ApplyResult, ShowConfigResult } from "./apply.ts";

export const READER_NAME: Record<SysctlReader, string> = {
  systemd: "systemd-sysctl",
  procps: "sysctl --system",
};

/** `vm.max_map_count` at boot, per reader, in one line. */
export function bootLine(boot: BootAnalysis, bootReader: SysctlReader): string {
  const main = boot[bootReader];
  const other = bootReader === "systemd" ? boot.procps : boot.systemd;
  const w = main.winner;
  const from = !w
    ? "the kernel default: no file sets it"
    : w.value === undefined
      ? `the kernel default: the kernel refuses ${t(w.raw ?? "")} from ${t(w.path)}:${w.line}`
      : `from ${t(w.path)}`;
  const agree =
    other.value === main.value
      ? `${READER_NAME[other.reader]} agrees`
      : `but ${READER_NAME[other.reader]} gives ${other.value}`;
  return `${main.value} with ${READER_NAME[bootReader]} (${from}); ${agree}`;
}

/**
 * Why the value at boot would not be ours, one line per reader.
 *
 * @example
 * overrideLines(result.overrides, "/etc/sysctl.d/90-vm_max_map_count.conf", 120000);
 */
export function overrideLines(overrides: Override[], ours: string, value: number): string[] {
  return overrides.map((o) => {
    const who = READER_NAME[o.reader];
    if (!o.winner) return `${who} would leave ${o.value}: ${t(ours)} does not set it`;
    const where = `${t(o.winner.path)}:${o.winner.line} sets ${t(o.winner.key)} = ${t(o.winner.raw ?? "")}`;
    if (o.winner.path === ours) {
      return `${who} would not get ${value}: ${where}, which the kernel refuses`;
    }
    return `${who} applies ${t(o.winner.path)} after ${t(ours)}: ${where}, so the value at boot is ${o.value}, not ${value}`;
  });
}

/**
 * Why a floor's boot value stays below it, one line per tool.
 *
 * @example
 * floorLines(result.overrides, 262144);
 * // ["systemd-sysctl gives 65530 at boot, below 262144: /etc/sysctl.conf:3 sets vm.max_map_count = 65530"]
 */
export function floorLines(overrides: Override[], floor: number): string[] {
  return overrides.map((o) => {
    const head = `${READER_NAME[o.reader]} gives ${o.value} at boot, below ${floor}`;
    if (!o.winner) return `${head}: no file sets it`;
    return `${head}: ${t(o.winner.path)}:${o.winner.line} sets ${t(o.winner.key)} = ${t(o.winner.raw ?? "")}`;
  });
}

/** The error line and hint for an overridden --persist, or undefined. */
export function overrideError(result: ApplyResult): { message: string; hint: string } | undefined {
  if (!result.file || result.overrides.length === 0) return undefined;
  const first = result.overrides[0];
  const floor = result.source === "at-least";
  const winner = t(first?.winner?.path ?? "another file");
  const who = READER_NAME[first?.reader ?? "systemd"];
  const setBy = first?.winner ? `${winner} sets it` : "no file sets it";
  // A floor that left vmaudit's file alone has nothing overridden: say what holds the value down.
  const message =
    floor && result.file.action === "not-written"
      ? `${t(result.file.path)} was not written, and ${who} gives ${first?.value} at boot, below --at-least ${result.value}: ${setBy}`
      : floor && !first?.winner
        ? `vm.max_map_count at boot stays below --at-least ${result.value}: ${who} gives ${first?.value}, and no file sets it`
        : `Another sysctl config overrides ${t(result.file.path)}: ${winner} sets vm.max_map_count = ${first?.value} at boot, ${floor ? `below --at-least ${result.value}` : `not ${result.value}`}`;
  const fixes: string[] = [];
  if (result.suggestedFile) {
    fixes.push(
      `rerun with --file ${t(result.suggestedFile)} (it sorts after ${winner.slice(winner.lastIndexOf("/") + 1)}) and delete ${t(result.file.path)}`,
    );
  }
  const sysctlConf = withRoot(result.root, SYSCTL_CONF);
  if (result.overrides.some((o) => o.winner?.path === sysctlConf)) {
    fixes.push(`remove vm.max_map_count from ${sysctlConf} (sysctl --system reads it last)`);
  }
  if (first?.winner) fixes.push(`or change ${winner} itself`);
  else fixes.push(`see the warnings of 'vmaudit apply --at-least ${result.value} --persist'`);
  return { message, hint: `To fix it: ${fixes.join("; ")}` };
}

function indentBlock(text: string): string {
  return text
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/**
 * The text report of apply, reset, or their dry runs.
 *
 * @example
 * renderApplyText(result, palette(false));
 */
export function renderApplyText(r: ApplyResult, p: Palette): string {
  const out: string[] = [];
  if (r.dryRun) out.push(p.bold("Dry run: nothing was changed."));
  const src =
    r.source === "recommendation"
      ? " (the recommendation of a fresh scan)"
      : r.source === "config"
        ? " (what the remaining config sets)"
        : r.source === "kernel-default"
          ? " (the kernel default: no remaining config sets it)"
          : "";
  const floor = r.source === "at-least";
  const wanted = floor ? `At least:      ${r.value}` : `New value:     ${r.value}${src}`;
  if (r.live === null) {
    out.push(
      `Offline root ${t(r.root)}: only files under it change; the live value is not touched`,
    );
    out.push(wanted);
  } else {
    out.push(`Current value: ${r.live.previous}`);
    out.push(wanted);
    if (!r.live.changed && floor) {
      out.push(
        `vm.max_map_count is already ${r.live.previous}, at least ${r.value}: the live value is left alone`,
      );
    } else if (!r.live.changed) {
      out.push(`vm.max_map_count is already ${r.value}: the live value is left alone`);
    } else if (r.dryRun) {
      out.push(`Would write ${r.value} to ${t(r.live.path)}`);
    } else {
      out.push(p.green(`Set ${r.live.path} to ${r.value}; read back ${r.live.value}`));
    }
  }
  if (r.busiest) {
    out.push(
      `Busiest process: pid ${r.busiest.pid} (${t(r.busiest.app)}) with ${r.busiest.vmas} VMAs`,
    );
  }
  if (r.file) {
    const f = r.file;
    const path = t(f.path);
    const verb = r.dryRun ? "would be" : "was";
    if (f.action === "write") {
      out.push(`${path} ${verb} written with:`, indentBlock(escapeControlLines(f.content ?? "")));
    } else if (f.action === "unchanged") {
      out.push(`${path} already sets ${r.value}: left unchanged`);
    } else if (f.action === "not-needed") {
      out.push(
        `${path} ${r.dryRun ? "would not be" : "was not"} written: at boot the value is already at least ${r.value}`,
      );
    } else if (f.action === "not-written") {
      out.push(`${path} ${r.dryRun ? "would not be" : "was not"} written (see the warning below)`);
    } else if (f.action === "remove") {
      out.push(`${path} ${verb} removed`);
    } else {
      out.push(`${path} does not exist: nothing to remove`);
    }
  }
  out.push(`At boot: ${bootLine(r.boot, r.bootReader)}`);
  if (r.file && r.action === "apply") {
    const lines = floor
      ? floorLines(r.overrides, r.value)
      : overrideLines(r.overrides, r.file.path, r.value);
    for (const line of lines) out.push(p.red(line));
  }
  for (const w of r.warnings) out.push(p.yellow(`Warning: ${t(w)}`));
  if (!r.changed && !r.dryRun) out.push("Nothing changed.");
  return `${out.join("\n")}\n`;
}

/** One JSON document, with `schemaVersion` and `changed`. */
export function renderApplyJson(r: ApplyResult | ShowConfigResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** How a hiding entry is described: a directory or a dangling link hides too. */
const HIDER: Record<Shadowed["byKind"], string> = {
  file: "",
  null: " (a /dev/null mask)",
  directory: " (a directory: it sets nothing)",
  missing: " (a dangling link: it sets nothing)",
  other: " (not a regular file: it sets nothing)",
};

function files(n: number): string {
  return n === 1 ? "1 file" : `${n} files`;
}

function settingValue(s: KeySetting): string {
  if (s.raw === null) return "(no value)";
  return s.value === undefined ? `${t(s.raw)} (refused by the kernel)` : t(s.raw);
}

function settingNote(s: KeySetting, o: ReaderOutcome, p: Palette): string {
  if (s === o.winner) return p.bold("wins");
  return s.written ? "" : "not written";
}

function readerTable(o: ReaderOutcome, p: Palette): string {
  if (o.settings.length === 0) return "  (no file sets it)\n";
  const rows = o.settings.map((s) => [
    settingValue(s),
    settingNote(s, o, p),
    t(s.key),
    `${t(s.path)}:${s.line}`,
  ]);
  return renderTable(["value", "", "key", "file:line"], rows, ["right", "left", "left", "left"]);
}

/**
 * The `--show-config` report: every file that sets vm.max_map_count, in the
 * order each tool applies them, and which one wins.
 *
 * @example
 * renderShowConfigText(showConfig({ root: "/", procfs: "/proc" }), palette(false));
 */
export function renderShowConfigText(r: ShowConfigResult, p: Palette): string {
  const b = r.boot;
  const out: string[] = [
    `vm.max_map_count in the sysctl config under ${t(r.root)}`,
    `Live value: ${r.liveValue ?? (r.root === "/" ? "unknown" : "not read (an offline image)")}`,
    `At boot: ${bootLine(b, r.bootReader)}`,
    "",
    `Applied by ${READER_NAME.systemd} (${files(b.systemd.order.length)}), in this order:`,
  ];
  const systemdTable = readerTable(b.systemd, p);
  out.push(systemdTable.replace(/\n$/, ""));
  out.push("");
  if (readerTable(b.procps, p) === systemdTable) {
    out.push(`${READER_NAME.procps} applies the same settings in the same order.`);
  } else {
    out.push(
      `Applied by ${READER_NAME.procps} (${files(b.procps.order.length)}, /etc/sysctl.conf last), in this order:`,
    );
    out.push(readerTable(b.procps, p).replace(/\n$/, ""));
  }
  if (b.shadowed.length > 0) {
    out.push("", "Hidden by a file of the same name in an earlier directory:");
    for (const s of b.shadowed) {
      out.push(`  ${t(s.path)}  hidden by ${t(s.by)}${HIDER[s.byKind]}`);
    }
  }
  for (const u of b.unreadable)
    out.push(p.yellow(`Warning: cannot read ${t(u.path)} (${t(u.error)})`));
  return `${out.join("\n")}\n`;
}
