/**
 * The completions command's SHELL argument.
 */
import { describe, expect, test } from "bun:test";
import { parseShell, SHELLS } from "../../src/commands/completions.ts";
import { UsageError } from "../../src/errors.ts";

describe("parseShell()", () => {
  for (const s of SHELLS) test(`accepts "${s}"`, () => expect(parseShell(s)).toBe(s));
  for (const bad of ["tcsh", "", "BASH", undefined]) {
    test(`rejects ${JSON.stringify(bad)} as a usage error naming the shells`, () => {
      expect(() => parseShell(bad)).toThrow(UsageError);
      expect(() => parseShell(bad)).toThrow(/expected one of bash, zsh, fish/);
    });
  }
});
