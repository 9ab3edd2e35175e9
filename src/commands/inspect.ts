/**
 * `vmaudit inspect PID`: why one process has so many VMAs.
 */
import type { Command, OptionValues } from "../cli/command.ts";
import {
  JSON_OPTION,
  PROCFS_OPTION,
  procfsFlag,
  stdoutPalette,
  stdoutWidth,
} from "../cli/common_flags.ts";
import { stringOption } from "../cli/parse.ts";
import { parsePositiveInt } from "../cli/values.ts";
import { exeNeededForApp } from "../core/app_name.ts";
import { PID_MAX_LIMIT } from "../core/kernel_limits.ts";
import { EXIT_FAILURE, EXIT_OK, ExitError, UsageError } from "../errors.ts";
import { describeReadCode } from "../fs/read_regular.ts";
import { isRoot } from "../identity.ts";
import { renderInspectJson, renderInspectText } from "../inspect/render.ts";
import { buildInspectReport, type InspectReport } from "../inspect/report.ts";
import { assertProcRoot } from "../proc/collect.ts";
import { readMaxMapCount } from "../proc/kernel.ts";
import { readMapsText } from "../proc/maps.ts";
import { readArgv, readComm, readExe } from "../proc/process.ts";
import { invokingUser } from "../proc/users.ts";

const DEFAULT_TOP_FILES = 10;

export interface InspectOptions {
  procfs: string;
  pid: number;
  topFiles: number;
  json: boolean;
  anonymizeUser: string | undefined;
}

/**
 * argv to inspect options. A pid that is not a positive decimal number is a
 * usage error (exit 2).
 *
 * @example
 * parseInspectOptions({}, ["1234"], {}).pid; // 1234
 */
export function parseInspectOptions(
  values: OptionValues,
  positionals: string[],
  env: Record<string, string | undefined>,
): InspectOptions {
  const raw = positionals[0] ?? "";
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || raw.length > 8 || Number(raw) > PID_MAX_LIMIT)
    throw new UsageError(
      `Cannot parse PID "${raw}": expected a process id, a whole number from 1 to ${PID_MAX_LIMIT}`,
      "inspect",
    );
  const t = stringOption(values, "top-files");
  return {
    procfs: procfsFlag(values, "inspect"),
    pid: Number(raw),
    topFiles:
      t === undefined
        ? DEFAULT_TOP_FILES
        : parsePositiveInt("--top-files", t, { command: "inspect" }),
    json: values.json === true,
    anonymizeUser: invokingUser(env),
  };
}

/** Read the process and build its report; exit 1 when it cannot be read. */
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

export const inspectCommand: Command = {
  name: "inspect",
  summary: "Explain one process's VMAs: groups, top files, distance to the limit",
  description: `
Reads /proc/PID/maps and groups the VMAs: anonymous private, anonymous shared,
file-backed (by path), heap, main stack, thread stacks and their guard pages,
other PROT_NONE reservations, and special mappings ([vdso], [vvar], ...). For
each group: the count, its share and its virtual size, with a line on what the
biggest group usually means. Thread stacks are recognised by shape (a ---p
guard right below an rw-p region), as the kernel no longer labels them.

Exit codes: 0 ok, 1 the process does not exist or cannot be read, 2 the pid is
not a number.`,
  positionals: [{ name: "PID", description: "The process to inspect" }],
  options: {
    "top-files": {
      type: "string",
      value: "N",
      description: "How many files to list",
      default: String(DEFAULT_TOP_FILES),
    },
    ...JSON_OPTION,
    ...PROCFS_OPTION,
  },
  examples: ["sudo vmaudit inspect 1234", "vmaudit inspect $$ --json | jq .groups"],
  run({ values, positionals, io }) {
    const opts = parseInspectOptions(values, positionals, io.env);
    const report = inspectProcess(opts);
    io.stdout(
      opts.json
        ? renderInspectJson(report)
        : renderInspectText(report, stdoutPalette(io, values), stdoutWidth(io)),
    );
    return EXIT_OK;
  },
};
