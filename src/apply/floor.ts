/**
 * `vmaudit apply --at-least N`: a floor, not an assignment. The live value
 * is raised to N when it is lower and never lowered; with --persist the
 * value at boot is made at least N, writing vmaudit's file only when that
 * is needed and does not lower anything.
 *
 * Same order of work as `applyLimit`, so a refusal changes nothing: the
 * guard, the current value (read strictly: garbage is an error, never a
 * number), the boot analysis and the file plan, then the live raise (with
 * read-back), then the file, then the boot analysis of the config as it
 * now stands. A dry run makes the same checks and stops before the writes.
 *
 * The boot value is judged for both tools, as `apply --persist` judges it
 * (src/sysctl/precedence.ts): systemd-sysctl and procps `sysctl --system`.
 * - Every tool already gives at least N: nothing is written, whatever
 *   file does it (`not-needed`).
 * - Otherwise vmaudit's file is written with N (or raised to N), unless
 *   that would lower what a tool gives now: the file would then win over a
 *   higher setting that comes before it, while the tool that stays below N
 *   is held there by a file that comes after it (`not-written`).
 * - A tool still below N after that is an override: exit 1, as for
 *   `apply --persist`.
 *
 * Under an offline --root only the boot value matters: the live value is
 * neither read nor written.
 */
import { DOS_RISK_THRESHOLD } from "../core/recommend.ts";
import { withRoot } from "../fs/root_path.ts";
import { guardHighValue } from "../limit/guards.ts";
import { raiseMaxMapCount, readCurrentLimit } from "../limit/live.ts";
import { maxMapCountPath, readVmaSlab } from "../proc/kernel.ts";
import { bootReaderOf, readSysctlConfigFiles } from "../sysctl/config_files.ts";
import {
  assertConfDirWritable,
  confPath,
  type PersistOutcome,
  persist,
  planPersist,
} from "../sysctl/persist.ts";
import {
  type BootAnalysis,
  effectiveBootValue,
  type Override,
  type SysctlReader,
  withFile,
} from "../sysctl/precedence.ts";
import {
  APPLY_SCHEMA_VERSION,
  type ApplyInput,
  type ApplyResult,
  afterLiveChange,
  assertLiveWritable,
  bootUnder,
  type FileAction,
  isOfflineRoot,
  ownFile,
  suggestFile,
} from "./apply.ts";
import { READER_NAME } from "./render.ts";

const READERS: readonly SysctlReader[] = ["systemd", "procps"];

/**
 * The tools that give less than `floor` at boot, with the setting that
 * decides their value (undefined: no file sets it).
 *
 * @example
 * belowFloor(effectiveBootValue([]), 262144); // both tools, at 65530
 */
export function belowFloor(boot: BootAnalysis, floor: number): Override[] {
  return READERS.map((r) => boot[r])
    .filter((o) => o.value < floor)
    .map((o) => ({ reader: o.reader, value: o.value, winner: o.winner }));
}

/**
 * What a floor does with vmaudit's file, from the boot analysis before and
 * (when the file is needed) after writing it. Pure.
 *
 * @example
 * floorFileAction({ before, after, floor: 262144, fileChanged: true }); // { action: "write", lowered: [] }
 */
export function floorFileAction(input: {
  before: BootAnalysis;
  /** The analysis with vmaudit's file saying the floor; unused when nothing is below it. */
  after: BootAnalysis | undefined;
  floor: number;
  /** Whether the file's content would change (false: it already says the floor). */
  fileChanged: boolean;
}): { action: FileAction; lowered: SysctlReader[] } {
  const { before, after, floor } = input;
  if (belowFloor(before, floor).length === 0 || after === undefined)
    return { action: "not-needed", lowered: [] };
  const lowered = READERS.filter((r) => after[r].value < before[r].value);
  if (lowered.length > 0) return { action: "not-written", lowered };
  return { action: input.fileChanged ? "write" : "unchanged", lowered: [] };
}

/** The vm_area_struct size for the high-value guard's message, when slabinfo can be read. */
function slabObjsize(procfs: string): number | undefined {
  const slab = readVmaSlab(procfs);
  return slab.ok ? slab.slab.objsize : undefined;
}

function names(readers: readonly SysctlReader[]): string {
  return readers.map((r) => READER_NAME[r]).join(" and ");
}

/**
 * Raise the limit to at least `input.atLeast` (and with --persist, the
 * value at boot).
 *
 * @example
 * applyFloor({ atLeast: 262144, persist: true, root: "/", procfs: "/proc", file: "90-vm_max_map_count.conf", ... });
 */
export function applyFloor(input: ApplyInput & { atLeast: number }): ApplyResult {
  const floor = input.atLeast;
  const offline = isOfflineRoot(input.root);
  // Raising never breaks a running process, so the below-peak guard has
  // nothing to say; the kernel-memory guard judges the floor itself.
  const above = floor > DOS_RISK_THRESHOLD && !input.force;
  guardHighValue({
    what: `--at-least ${floor}`,
    value: floor,
    threshold: DOS_RISK_THRESHOLD,
    objsize: above && !offline ? slabObjsize(input.procfs) : undefined,
    force: input.force,
  });

  const now = input.now ?? new Date();
  const files = readSysctlConfigFiles(input.root);
  const bootReader = bootReaderOf(input.root);
  const before = effectiveBootValue(files);
  const previous = offline ? undefined : readCurrentLimit(input.procfs);

  let plan: PersistOutcome | undefined;
  let action: FileAction | undefined;
  let lowered: SysctlReader[] = [];
  if (input.persist) {
    let after: BootAnalysis | undefined;
    if (belowFloor(before, floor).length > 0) {
      // Refuses a link or a non-file at the path, before anything changes.
      plan = planPersist({
        root: input.root,
        name: input.file,
        value: floor,
        previous: previous ?? before[bootReader].value,
        now,
      });
      after = effectiveBootValue(withFile(files, ownFile(plan.path, plan.content)));
    }
    ({ action, lowered } = floorFileAction({
      before,
      after,
      floor,
      fileChanged: plan?.changed ?? false,
    }));
    if (action === "write") assertConfDirWritable(input.root, input.file);
  }

  let live: ApplyResult["live"] = null;
  if (previous !== undefined) {
    const path = maxMapCountPath(input.procfs);
    if (input.dryRun) {
      if (previous < floor) assertLiveWritable(path, floor);
      live = { path, previous, value: Math.max(previous, floor), changed: previous < floor };
    } else {
      const c = raiseMaxMapCount(floor, input.procfs);
      live = { path, previous: c.previous, value: c.current, changed: c.changed };
    }
  }
  const write = action === "write" ? plan : undefined;
  if (write && !input.dryRun) {
    try {
      persist(write, input.root);
    } catch (err) {
      throw afterLiveChange(err, live, `${withRoot(input.root, write.path)} was not written`);
    }
  }

  let files2 = input.dryRun ? files : readSysctlConfigFiles(input.root);
  if (write && input.dryRun) files2 = withFile(files, ownFile(write.path, write.content));
  const targetBoot = effectiveBootValue(files2);
  const boot = bootUnder(input.root, targetBoot);
  const overrides = input.persist ? belowFloor(boot, floor) : [];
  const ownPath = withRoot(input.root, confPath(input.file));
  const warnings: string[] = [];
  if (action === "not-written") {
    const now = lowered.map((r) => before[r].value).join(" and ");
    warnings.push(
      `${ownPath} was not written: ${floor} there would lower what ${names(lowered)} ${lowered.length > 1 ? "give" : "gives"} at boot (${now}) and still leave ${names(overrides.map((o) => o.reader))} below ${floor}`,
    );
  }
  if (!input.persist && boot[bootReader].value < floor) {
    warnings.push(
      `Without --persist the limit goes back to ${boot[bootReader].value} at the next boot, below ${floor}`,
    );
  }
  return {
    schemaVersion: APPLY_SCHEMA_VERSION,
    action: "apply",
    dryRun: input.dryRun,
    changed: (live?.changed ?? false) || action === "write",
    value: floor,
    source: "at-least",
    root: input.root,
    live,
    file:
      action === undefined
        ? null
        : {
            path: ownPath,
            action,
            changed: action === "write",
            content: plan && (action === "write" || action === "unchanged") ? plan.content : null,
          },
    bootReader,
    bootValue: boot[bootReader].value,
    boot,
    overrides,
    // A later name would make the file win for every tool, lowering the one it would lower now.
    suggestedFile: action === "not-written" ? null : suggestFile(belowFloor(targetBoot, floor)),
    busiest: null,
    recommendedLimit: null,
    warnings,
  };
}
