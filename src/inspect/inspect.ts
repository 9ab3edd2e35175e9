/**
 * `vmaudit inspect` end to end: read one process's maps, argv and limit and
 * build its report. A process that cannot be read is an ExitError (exit 1)
 * that says why.
 */
import { exeNeededForApp } from "../core/app_name.ts";
import { EXIT_FAILURE, ExitError } from "../errors.ts";
import { describeReadCode } from "../fs/read_regular.ts";
import { isRoot } from "../identity.ts";
import { assertProcRoot } from "../proc/collect.ts";
import { readMaxMapCount } from "../proc/kernel.ts";
import { readMapsText } from "../proc/maps.ts";
import { readArgv, readComm, readExe } from "../proc/process.ts";
import { buildInspectReport, type InspectReport } from "./report.ts";

export interface InspectOptions {
  procfs: string;
  pid: number;
  topFiles: number;
  json: boolean;
  anonymizeUser: string | undefined;
}

/**
 * Read the process and build its report; exit 1 when it cannot be read.
 *
 * @example
 * inspectProcess({ procfs: "/proc", pid: 1, topFiles: 10, json: false, anonymizeUser: undefined }).vmas;
 */
export function inspectProcess(opts: InspectOptions, now = new Date()): InspectReport {
  assertProcRoot(opts.procfs);
  const { procfs, pid } = opts;
  const path = `${procfs}/${pid}/maps`;
  const maps = readMapsText(path);
  switch (maps.kind) {
    case "vanished":
      throw new ExitError(EXIT_FAILURE, `No process with pid ${pid} (${path}: ${maps.code})`);
    case "denied":
      throw new ExitError(
        EXIT_FAILURE,
        isRoot()
          ? `Cannot read "${path}": permission denied (${maps.code}) even as root: a protected process, such as a sandbox's init`
          : `Cannot read "${path}": permission denied (${maps.code}); run as root (sudo vmaudit inspect ${pid}) to inspect another user's process`,
      );
    case "error":
      throw new ExitError(EXIT_FAILURE, `Cannot read "${path}": ${describeReadCode(maps.code)}`);
    case "empty":
      throw new ExitError(
        EXIT_FAILURE,
        `Process ${pid} has no VMAs: it is a kernel thread or a zombie ("${path}" is empty)`,
      );
  }
  const small = Buffer.allocUnsafe(64 * 1024);
  const argv = readArgv(procfs, pid, small);
  const exe = exeNeededForApp(argv) ? readExe(procfs, pid) : undefined;
  return buildInspectReport(
    {
      procfs,
      pid,
      mapsText: maps.text,
      argv,
      comm: argv.length === 0 ? readComm(procfs, pid, small) : undefined,
      ...(exe ? { exe } : {}),
      maxMapCount: readMaxMapCount(procfs),
      topFiles: opts.topFiles,
      anonymizeUser: opts.anonymizeUser,
    },
    now,
  );
}
