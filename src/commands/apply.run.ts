/**
 * `vmaudit apply`, run: typed options to a request (the combinations that
 * make no sense are usage errors, exit 2, before the root check, so a typo
 * is reported as a typo), then `applyLimit`, `applyFloor` (`--at-least`),
 * `resetLimit` or `showConfig`,
 * the result to a renderer, and exit 1 when another config file overrides
 * the value at boot.
 */
import { resolve } from "node:path";
import { type ApplyInput, applyLimit, resetLimit, showConfig } from "../apply/apply.ts";
import { applyFloor } from "../apply/floor.ts";
import {
  overrideError,
  renderApplyJson,
  renderApplyText,
  renderShowConfigText,
} from "../apply/render.ts";
import { requireRoot } from "../cli/command_line.ts";
import { stdoutPalette } from "../cli/output.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "../errors.ts";
import { journalWarning, runDir } from "../limit/journal.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { DEFAULT_CONF_NAME } from "../sysctl/conf_name.ts";
import type { ApplyRun } from "./apply.ts";

export interface ApplyOptions extends ApplyInput {
  showConfig: boolean;
  json: boolean;
}

/**
 * The typed options as an apply request. Usage errors (exit 2) come from
 * here, before the root check.
 *
 * @example
 * applyRequest(parseCommandArgs(applyCommand, ["--persist", "120000"])).value; // 120000
 */
export function applyRequest(input: Pick<ApplyRun, "options" | "args">): ApplyOptions {
  const { options: o, args } = input;
  const value = args.VALUE;
  const { reset, persist } = o;
  const show = o["show-config"];
  const atLeast = o["at-least"];
  if (atLeast !== undefined && value !== undefined) {
    throw new UsageError(
      `Cannot use VALUE "${value}" with --at-least ${atLeast}: VALUE sets an exact value, --at-least a floor`,
      "apply",
    );
  }
  if (atLeast !== undefined && reset) {
    throw new UsageError(
      "Cannot use --at-least with --reset: --reset decides the value from the config",
      "apply",
    );
  }
  if (reset && value !== undefined) {
    throw new UsageError(
      `Cannot use VALUE "${value}" with --reset: --reset decides the value from the config`,
      "apply",
    );
  }
  if (reset && persist) {
    throw new UsageError("Cannot use --persist with --reset: --reset removes the file", "apply");
  }
  if (show && (value !== undefined || atLeast !== undefined || reset || persist || o["dry-run"])) {
    throw new UsageError(
      "Cannot combine --show-config with VALUE, --at-least, --persist, --reset or --dry-run",
      "apply",
    );
  }
  if (o.file !== undefined && !persist && !reset && !show) {
    throw new UsageError("Cannot use --file without --persist or --reset", "apply");
  }
  // Lexically normal: "//" and "/img/.." are "/", "/img/" is "/img".
  const root = resolve(o.root);
  if (root !== "/" && !persist && !reset && !show) {
    throw new UsageError(
      `Cannot use --root "${o.root}" without --persist, --reset or --show-config: a --root other than / is an offline image, which has no live value to set`,
      "apply",
    );
  }
  return {
    value,
    recommend: { headroom: o.headroom, round: o.round, vma: o.vma, peaks: o.peaks },
    procfs: o.procfs,
    root,
    persist,
    file: o.file ?? DEFAULT_CONF_NAME,
    dryRun: o["dry-run"],
    force: o.force,
    reset,
    atLeast,
    showConfig: show,
    json: o.json,
  };
}

export function run({ options, args, io, argv }: ApplyRun): number {
  const opts = applyRequest({ options, args });
  const warning = journalWarning(runDir(io.env));
  if (warning) io.stderr(`vmaudit: warning: ${escapeControl(warning)}\n`);
  const p = stdoutPalette(io, options);
  if (opts.showConfig) {
    const r = showConfig(opts);
    io.stdout(opts.json ? renderApplyJson(r) : renderShowConfigText(r, p));
    return EXIT_OK;
  }
  // A dry run only reads, so it works without root (with a partial scan).
  if (!opts.dryRun) requireRoot("apply", argv);
  const result = opts.reset
    ? resetLimit(opts)
    : opts.atLeast !== undefined
      ? applyFloor({ ...opts, atLeast: opts.atLeast })
      : applyLimit(opts);
  io.stdout(opts.json ? renderApplyJson(result) : renderApplyText(result, p));
  const overridden = overrideError(result);
  if (overridden) {
    io.stderr(`vmaudit: ${overridden.message}\n${overridden.hint}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}
