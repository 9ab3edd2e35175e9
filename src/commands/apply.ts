/**
 * `vmaudit apply`: set vm.max_map_count now, and with --persist at boot too.
 */

import { resolve } from "node:path";
import { type ApplyInput, applyLimit, resetLimit, showConfig } from "../apply/apply.ts";
import {
  overrideError,
  renderApplyJson,
  renderApplyText,
  renderShowConfigText,
} from "../apply/render.ts";
import type { Command, OptionValues } from "../cli/command.ts";
import { requireRoot } from "../cli/command_line.ts";
import {
  JSON_OPTION,
  PROCFS_OPTION,
  parseRecommendFlags,
  procfsFlag,
  RECOMMEND_OPTIONS,
  stdoutPalette,
} from "../cli/common_flags.ts";
import { stringOption } from "../cli/parse.ts";
import { parsePositiveInt } from "../cli/values.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "../errors.ts";
import { journalWarning, runDir } from "../limit/journal.ts";
import { escapeControl } from "../render/terminal_text.ts";
import { DEFAULT_CONF_NAME, validateConfName } from "../sysctl/persist.ts";

export interface ApplyOptions extends ApplyInput {
  showConfig: boolean;
  json: boolean;
}

/**
 * argv values to apply options. Usage errors (exit 2) come from here, before
 * the root check, so a typo is reported as a typo.
 *
 * @example
 * parseApplyOptions({ persist: true }, ["120000"]).value; // 120000
 */
export function parseApplyOptions(values: OptionValues, positionals: string[]): ApplyOptions {
  const raw = positionals[0];
  const value =
    raw === undefined ? undefined : parsePositiveInt("VALUE", raw, { command: "apply" });
  const reset = values.reset === true;
  const show = values["show-config"] === true;
  const persist = values.persist === true;
  const fileFlag = stringOption(values, "file");
  const file = validateConfName(fileFlag ?? DEFAULT_CONF_NAME);
  if (reset && value !== undefined) {
    throw new UsageError(
      `Cannot use VALUE "${raw}" with --reset: --reset decides the value from the config`,
      "apply",
    );
  }
  if (reset && persist) {
    throw new UsageError("Cannot use --persist with --reset: --reset removes the file", "apply");
  }
  if (show && (value !== undefined || reset || persist || values["dry-run"] === true)) {
    throw new UsageError(
      "Cannot combine --show-config with VALUE, --persist, --reset or --dry-run",
      "apply",
    );
  }
  if (fileFlag !== undefined && !persist && !reset && !show) {
    throw new UsageError("Cannot use --file without --persist or --reset", "apply");
  }
  const rootRaw = stringOption(values, "root") ?? "/";
  if (!rootRaw.startsWith("/")) {
    throw new UsageError(`Cannot use --root "${rootRaw}": expected an absolute path`, "apply");
  }
  // Lexically normal: "//" and "/img/.." are "/", "/img/" is "/img".
  const root = resolve(rootRaw);
  if (root !== "/" && !persist && !reset && !show) {
    throw new UsageError(
      `Cannot use --root "${rootRaw}" without --persist, --reset or --show-config: a --root other than / is an offline image, which has no live value to set`,
      "apply",
    );
  }
  return {
    value,
    recommend: parseRecommendFlags(values, "apply"),
    procfs: procfsFlag(values, "apply"),
    root,
    persist,
    file,
    dryRun: values["dry-run"] === true,
    force: values.force === true,
    reset,
    showConfig: show,
    json: values.json === true,
  };
}

export const applyCommand: Command = {
  name: "apply",
  summary: "Set vm.max_map_count now, and with --persist at every boot",
  description: `
Writes /proc/sys/vm/max_map_count and reads it back. Without VALUE, sets the
recommendation of a fresh scan (the same --vma, --headroom and --round as
'vmaudit scan'). If the value is already set, nothing changes.

--persist also writes /etc/sysctl.d/90-vm_max_map_count.conf (atomically;
left alone when it already says the value), then works out the value the
system will really get at boot from every sysctl config file, the way
systemd-sysctl and 'sysctl --system' read them. If another file would win,
it names it and exits 1. --show-config prints that analysis alone.

Refuses, unless --force, a value below the VMA count of a running process
(its next mmap would fail) or above 1048576 (a kernel-memory
denial-of-service risk).

--root DIR works on an offline image instead of the running system (as
systemctl --root does): only files under DIR change, links in it are
resolved inside DIR, and the live value is neither read nor written.`,
  options: {
    persist: { type: "boolean", description: "Also write the boot-time config in /etc/sysctl.d" },
    file: {
      type: "string",
      value: "NAME",
      description: "File name in /etc/sysctl.d for --persist and --reset",
      default: DEFAULT_CONF_NAME,
    },
    "dry-run": {
      type: "boolean",
      short: "n",
      description:
        "Show the current and new value, the file content and the boot value; change nothing",
    },
    reset: {
      type: "boolean",
      description:
        "Remove vmaudit's file and go back to what the rest of the config sets (or 65530)",
    },
    "show-config": {
      type: "boolean",
      description:
        "List every sysctl config file that sets vm.max_map_count, in order, and the winner",
    },
    force: { type: "boolean", description: "Set a value the guards refuse" },
    root: {
      type: "string",
      value: "DIR",
      description: "An offline image: change only the config files under DIR, never the live value",
      default: "/",
    },
    ...RECOMMEND_OPTIONS,
    ...JSON_OPTION,
    ...PROCFS_OPTION,
  },
  positionals: [
    {
      name: "VALUE",
      description: "The new limit, a positive integer (default: the scan's recommendation)",
      optional: true,
    },
  ],
  examples: [
    "sudo vmaudit apply --persist",
    "sudo vmaudit apply 262144 --persist --dry-run",
    "vmaudit apply --show-config",
    "sudo vmaudit apply --reset",
  ],
  run({ values, positionals, io, argv }) {
    const opts = parseApplyOptions(values, positionals);
    const warning = journalWarning(runDir(io.env));
    if (warning) io.stderr(`vmaudit: warning: ${escapeControl(warning)}\n`);
    const p = stdoutPalette(io, values);
    if (opts.showConfig) {
      const r = showConfig(opts);
      io.stdout(opts.json ? renderApplyJson(r) : renderShowConfigText(r, p));
      return EXIT_OK;
    }
    // A dry run only reads, so it works without root (with a partial scan).
    if (!opts.dryRun) requireRoot("apply", argv ?? ["apply"]);
    const result = opts.reset ? resetLimit(opts) : applyLimit(opts);
    io.stdout(opts.json ? renderApplyJson(result) : renderApplyText(result, p));
    const overridden = overrideError(result);
    if (overridden) {
      io.stderr(`vmaudit: ${overridden.message}\n${overridden.hint}\n`);
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  },
};
