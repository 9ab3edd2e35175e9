/**
 * The compiled binary's --help lists every exit code the source defines.
 */
import { describe, expect, test } from "bun:test";
import { constants } from "node:os";
import { CHECK_EXIT } from "../../src/check/evaluate.ts";
import { EXIT_FAILURE, EXIT_NEEDS_ROOT, EXIT_OK, EXIT_USAGE } from "../../src/errors.ts";
import { runBinary } from "../helpers/env.ts";

describe("vmaudit --help (compiled binary) lists every exit code", () => {
  const help = runBinary(["--help"]).stdout;
  const section = help.slice(help.indexOf("Exit codes:"));
  // [what, the code as the source defines it, the line --help must have]
  const cases: [string, string, RegExp][] = [
    ["ok", String(EXIT_OK), /^ {2}0 +ok$/m],
    ["failure", String(EXIT_FAILURE), /^ {2}1 +the operation or a check failed$/m],
    ["usage error", String(EXIT_USAGE), /^ {2}2 +usage error \(a bad command, flag or value\)/m],
    ["needs root", String(EXIT_NEEDS_ROOT), /^ {2}77 +the command needs root$/m],
    [
      "stress stopped by SIGINT or SIGTERM",
      `${128 + constants.signals.SIGINT}, ${128 + constants.signals.SIGTERM}`,
      /^ {2}130, 143 +stress was stopped by SIGINT or SIGTERM/m,
    ],
    [
      "check's monitoring-plugins codes",
      Object.entries(CHECK_EXIT)
        .map(([status, code]) => `${code} ${status}`)
        .join(", "),
      /^ {2}0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN \(its usage errors included\)$/m,
    ],
  ];
  for (const [what, code, line] of cases) {
    test(`${what}: ${code}`, () => {
      expect(section).toMatch(line);
      expect(section).toContain(code);
    });
  }
});
