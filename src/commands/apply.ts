/**
 * `vmaudit apply`: set vm.max_map_count now, and with --persist at boot too.
 * The command's metadata and typed options; `apply.run.ts` does the work.
 */
import { COMMON_EXIT_CODES, type CommandInput, defineCommand } from "../cli/command.ts";
import { JSON_OPTION, PROCFS_OPTION, RECOMMEND_OPTIONS } from "../cli/common_options.ts";
import { custom, flag, int, path, positional } from "../cli/options.ts";
import { parsePositiveInt } from "../cli/values.ts";
import { UsageError } from "../errors.ts";
import { DEFAULT_CONF_NAME, validateConfName } from "../sysctl/conf_name.ts";

const options = {
  persist: flag("Also write the boot-time config in /etc/sysctl.d"),
  file: custom({
    placeholder: "NAME",
    description: "File name in /etc/sysctl.d for --persist and --reset",
    // No default value: --file without --persist or --reset is refused.
    defaultText: DEFAULT_CONF_NAME,
    parse: (raw, at) => validateConfName(raw, at.command),
  }),
  "dry-run": flag(
    "Show the current and new value, the file content and the boot value; change nothing",
    "n",
  ),
  "at-least": int({
    placeholder: "N",
    description:
      "Raise the limit to N when it is lower, never lower it (with --persist: the boot value too)",
  }),
  reset: flag("Remove vmaudit's file and go back to what the rest of the config sets (or 65530)"),
  "show-config": flag(
    "List every sysctl config file that sets vm.max_map_count, in order, and the winner",
  ),
  force: flag("Set a value the guards refuse"),
  root: path({
    placeholder: "DIR",
    description: "An offline image: change only the config files under DIR, never the live value",
    default: "/",
    expected: "an absolute path",
    refine: (raw, at) => {
      if (!raw.startsWith("/"))
        throw new UsageError(`Cannot use --root "${raw}": expected an absolute path`, at.command);
      return raw;
    },
  }),
  ...RECOMMEND_OPTIONS,
  ...JSON_OPTION,
  ...PROCFS_OPTION,
};

const positionals = [
  positional({
    name: "VALUE",
    description: "The new limit, a positive integer (default: the scan's recommendation)",
    arity: "optional",
    parse: (raw, at) => parsePositiveInt(at.name, raw, { command: at.command }),
  }),
] as const;

export type ApplyRun = CommandInput<typeof options, typeof positionals>;

export const applyCommand = defineCommand({
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

--at-least N is a floor, not an assignment: it raises the live value to N
when it is lower and never lowers it (at or above N nothing is written).
With --persist it makes the value at boot at least N, writing vmaudit's
file only when no config already gives that, and exits 1 when another file
keeps the boot value below N. The current value must read as a number: an
unreadable or non-numeric value, a refused write or a read-back below N
is an error, never a silent pass.

--root DIR works on an offline image instead of the running system (as
systemctl --root does): only files under DIR change, links in it are
resolved inside DIR, and the live value is neither read nor written.

In a container, --persist writes the container's /etc, not the node's: to
persist on the node, mount its / (say at /host) and run --persist with
--root /host (the live value then needs a run of its own, without them).`,
  options,
  positionals,
  examples: [
    "sudo vmaudit apply --persist",
    "sudo vmaudit apply 262144 --persist --dry-run",
    "sudo vmaudit apply --at-least 262144 --persist",
    "vmaudit apply --show-config",
    "sudo vmaudit apply --reset",
  ],
  exitCodes: [
    COMMON_EXIT_CODES.ok,
    {
      code: 1,
      meaning:
        "another sysctl config file overrides the value at boot (keeps it below --at-least), or reading or writing failed",
    },
    { code: 2, meaning: "usage error, or a value a guard refuses without --force" },
    COMMON_EXIT_CODES.needsRoot,
  ],
  load: () => import("./apply.run.ts"),
});
