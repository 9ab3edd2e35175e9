/**
 * What the man page says beyond the command table: the program's one-line
 * summary and description, the environment variables vmaudit reads, the
 * files it reads and writes, and the pages to see also. Data only; the
 * paths come from the modules that use them where those export them.
 *
 * `test/unit/man_page.test.ts` keeps ENVIRONMENT and the code in step: it
 * finds every environment variable the source reads and fails when one is
 * missing here, or listed here but no longer read.
 */
import { KERNEL_DEFAULT_LIMIT } from "../core/kernel_limits.ts";
import { PASSWD_FILE } from "../proc/users.ts";
import { CONF_DIR, DEFAULT_CONF_NAME } from "../sysctl/conf_name.ts";
import { MAX_MAP_COUNT_PROC_PATH } from "../sysctl/config.ts";
import { PROCPS_DIRS, SYSCTL_CONF } from "../sysctl/precedence.ts";

/** NAME: what vmaudit is, in one line. */
export const PROGRAM_SUMMARY = "count the VMAs of every process and size vm.max_map_count";

/** DESCRIPTION, one paragraph per string. */
export const PROGRAM_DESCRIPTION: readonly string[] = [
  "vmaudit counts the Virtual Memory Areas (VMAs) of every process, recommends a value " +
    "for the kernel setting vm.max_map_count, sets it now and at boot, proves a limit " +
    "with a stress worker, explains one process's mappings, watches peaks over time, " +
    "and reports to Prometheus and monitoring plugins.",
  "A process's address space is made of regions: its code, heap, stack, each shared " +
    "library and each mapped file or anonymous block. The kernel keeps one " +
    "vm_area_struct per region, and /proc/PID/maps prints one line per VMA. " +
    "vm.max_map_count caps how many VMAs one process may have; it is not a system-wide " +
    "total. A process at the cap gets ENOMEM from mmap, brk, mprotect and new thread " +
    "stacks, even with free memory, which applications usually report as out of memory. " +
    `The kernel default is ${KERNEL_DEFAULT_LIMIT}.`,
  "Run vmaudit as root to see every process: reading another user's /proc/PID/maps " +
    "needs CAP_SYS_PTRACE. Command lines in reports can hold secrets; the name of the " +
    "user who ran vmaudit is replaced by <user>.",
];

/** One entry of ENVIRONMENT or FILES. */
export interface ManEntry {
  name: string;
  meaning: string;
}

/** Every environment variable vmaudit reads, and what it changes. */
export const ENVIRONMENT: readonly ManEntry[] = [
  {
    name: "NO_COLOR",
    meaning: "When set and not empty, output is never coloured (as --no-color).",
  },
  {
    name: "FORCE_COLOR",
    meaning:
      "When set to anything but 0 or false, output is coloured even when it is not a terminal or TERM is dumb (not with --json, --no-color or NO_COLOR).",
  },
  {
    name: "TERM",
    meaning: "dumb turns colour off, and watch's live view with it.",
  },
  {
    name: "COLUMNS",
    meaning:
      "The width text output fits on a terminal, when it is a number from 1 to 99999; else the terminal's own width. Output that is not a terminal is never cut.",
  },
  {
    name: "SUDO_UID",
    meaning:
      "Under sudo, the real user: the name reports replace by <user>, and an owner whose symbolic links vmaudit follows on the way to a file it writes. vmaudit never reads USER.",
  },
  {
    name: "VMAUDIT_RUN_DIR",
    meaning:
      "The directory of the limit journal instead of /run/vmaudit (for tests). It is trusted only when owned by root or the user running vmaudit, writable by nobody else and not a symbolic link.",
  },
];

/** The files vmaudit reads and writes. The /proc paths follow --procfs. */
export const FILES: readonly ManEntry[] = [
  {
    name: "/proc/PID/maps",
    meaning:
      "One line per VMA of each process: what scan, watch, check, inspect and stress count. Read under --procfs DIR instead of /proc when given, as are the other /proc files below.",
  },
  {
    name: "/proc/PID/cmdline, comm, stat, status, exe",
    meaning:
      "Each process's command line and name, to name its application (exe only for names ending in .exe, to tell Wine apart), whether it is a kernel thread, and the stress worker's resident memory.",
  },
  {
    name: MAX_MAP_COUNT_PROC_PATH,
    meaning:
      "The live limit: read by every command, written (and read back) by apply and by stress --limit.",
  },
  {
    name: "/proc/slabinfo",
    meaning: "The kernel's vm_area_struct cache, which scan reports (readable by root only).",
  },
  {
    name: PASSWD_FILE,
    meaning: "The name of the user who ran vmaudit (see SUDO_UID), to hide it in reports.",
  },
  {
    name: `${CONF_DIR}/${DEFAULT_CONF_NAME}`,
    meaning: `The file apply --persist writes (atomically) and apply --reset removes; --file NAME names another in ${CONF_DIR}. Under --root DIR, inside DIR.`,
  },
  {
    name: "sysctl.d/*.conf",
    meaning: `The sysctl configuration apply reads to work out the value the system gets at boot, as systemd-sysctl and sysctl --system read it: ${PROCPS_DIRS.map((d) => `${d}/*.conf`).join(", ")} and ${SYSCTL_CONF}.`,
  },
  {
    name: "/run/vmaudit/limit-journal.json",
    meaning:
      "Written by stress --limit before it changes the limit and removed after the restore, so that the next run restores a limit a killed run left; scan and apply warn while it exists.",
  },
  {
    name: "FILE",
    meaning:
      "The files of scan --prometheus FILE and watch --save FILE, written atomically (a temporary file renamed over the old one), and of --peaks FILE, read.",
  },
];

/** SEE ALSO, as man page references. */
export const SEE_ALSO: readonly { name: string; section: number }[] = [
  { name: "sysctl", section: 8 },
  { name: "sysctl.d", section: 5 },
  { name: "proc", section: 5 },
];
