/**
 * Differential test of the boot-value analysis: the real systemd-sysctl and
 * procps `sysctl --system` are the oracle (test/helpers/sysctl_oracle.ts).
 * For every hand-made tree and every generated one:
 * - the writes vmaudit predicts for each tool, byte for byte, are the
 *   writes the tool makes (strace);
 * - `vmaudit apply --show-config --json` (the compiled binary) reports as
 *   `boot.systemd.value` and `boot.procps.value` what the kernel makes of
 *   those writes;
 * and the kernel's reading of every distinct string the tools wrote is
 * checked against the real kernel.
 *
 * VMAUDIT_FUZZ_SEED and VMAUDIT_FUZZ_TREES reproduce or widen a run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errnoCode } from "../../src/errors.ts";
import { readSysctlConfigFiles } from "../../src/sysctl/config_files.ts";
import { kernelParseMaxMapCount } from "../../src/sysctl/kernel_int.ts";
import { type SysctlReader, simulateReader } from "../../src/sysctl/precedence.ts";
import { binary } from "../helpers/env.ts";
import { prng, randomTree } from "../helpers/sysctl_fuzz.ts";
import { HAND_CASES, handEntries } from "../helpers/sysctl_hand_cases.ts";
import {
  makeOracleRoot,
  type OracleResult,
  oracleUnavailable,
  runRealTools,
  type TreeEntry,
  toolVersions,
} from "../helpers/sysctl_oracle.ts";

const SEED = Number(process.env.VMAUDIT_FUZZ_SEED ?? 20250905);
const TREES = Number(process.env.VMAUDIT_FUZZ_TREES ?? 400);
const KERNEL_DEFAULT = 65530;
const PARALLEL = 2;
const LIMIT_PATH = "/proc/sys/vm/max_map_count";

interface Case {
  name: string;
  entries: TreeEntry[];
  root: string;
}

/** Bytes shown so that a failure message can be pasted back into a test. */
function show(bytes: Uint8Array): string {
  return JSON.stringify(Buffer.from(bytes).toString("latin1"));
}

function describeTree(entries: TreeEntry[]): string {
  return entries
    .map((e) => {
      const what =
        e.kind === "file" ? show(e.data) : e.kind === "dir" ? "<dir>" : `-> ${show(e.target)}`;
      return `    ${show(e.path)}: ${what}`;
    })
    .join("\n");
}

/** The value the kernel ends with after these writes, one write(2) each. */
function fold(writes: Uint8Array[]): number {
  let v = KERNEL_DEFAULT;
  for (const w of writes) v = kernelParseMaxMapCount(w) ?? v;
  return v;
}

/**
 * The writes systemd makes to the oracle's plain file: it reads the file
 * first and skips a write whose value is what the file already says
 * (WRITE_STRING_FILE_SUPPRESS_REDUNDANT_VIRTUAL, reading strlen + 1 bytes).
 * The file is written in place without truncation. On the real kernel the
 * skip only ever happens when the value would not change, so it does not
 * change the result.
 */
function throughPlainFile(writes: Uint8Array[]): Buffer[] {
  let content = Buffer.from("65530\n");
  const trim = (s: Buffer) => s.toString("latin1").replace(/[\n\r]+$/, "");
  const out: Buffer[] = [];
  for (const w of writes) {
    const line = Buffer.from(w).subarray(0, -1);
    if (content.length <= line.length + 1 && trim(content) === trim(line)) continue;
    out.push(Buffer.from(w));
    const next = Buffer.alloc(Math.max(content.length, w.length));
    content.copy(next);
    Buffer.from(w).copy(next);
    content = next;
  }
  return out;
}

function sameWrites(a: Uint8Array[], b: Uint8Array[]): boolean {
  return (
    a.length === b.length &&
    a.every((w, i) => Buffer.compare(Buffer.from(w), Buffer.from(b[i] ?? [])) === 0)
  );
}

type ShowConfig = { boot: Record<SysctlReader, { value: number }> };

/** `vmaudit apply --show-config --json --root ROOT` through the compiled binary. */
async function showConfigJson(c: Case): Promise<ShowConfig> {
  const p = Bun.spawn([binary(), "apply", "--show-config", "--json", "--root", c.root], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    p.exited,
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`vmaudit failed on ${c.name} (exit ${code}): ${err}`);
  return JSON.parse(out);
}

/** Map with at most `n` calls in flight, keeping the order. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

/** Every disagreement between vmaudit and the tools for one case, as text. */
function disagreements(c: Case, oracle: OracleResult, json: ShowConfig): string[] {
  const files = readSysctlConfigFiles(c.root);
  const out: string[] = [];
  for (const reader of ["systemd", "procps"] as const) {
    const real = oracle[reader].writes;
    const predicted = simulateReader(files, reader).writes.map((w) => w.bytes);
    const expected =
      reader === "systemd" ? throughPlainFile(predicted) : predicted.map((w) => Buffer.from(w));
    if (!sameWrites(expected, real)) {
      out.push(
        `${reader} wrote [${real.map(show).join(", ")}], vmaudit predicts [${expected.map(show).join(", ")}]`,
      );
    }
    const value = fold(real);
    if (json.boot[reader].value !== value) {
      out.push(`${reader} gives ${value} at boot, vmaudit's JSON says ${json.boot[reader].value}`);
    }
    const said = oracle[reader].stderr.trim();
    if (out.length > 0 && said)
      out.push(`${reader} said (exit ${oracle[reader].exitCode}): ${said.slice(0, 300)}`);
  }
  if (out.length === 0) return [];
  return [`${c.name} (${c.root}):\n  ${out.join("\n  ")}\n  tree:\n${describeTree(c.entries)}`];
}

const unavailable = oracleUnavailable();
if (unavailable) console.warn(`SKIP sysctl differential test: ${unavailable}`);
const suite = unavailable ? describe.skip : describe;

suite("the boot value agrees with the real systemd-sysctl and procps", () => {
  let parent = "";
  const cases: Case[] = [];
  const results: { oracle: OracleResult; json: ShowConfig }[] = [];

  beforeAll(async () => {
    const started = performance.now();
    parent = mkdtempSync(join(tmpdir(), "vmaudit-differential-"));
    for (const [name, spec] of HAND_CASES) {
      const entries = handEntries(spec);
      cases.push({ name: `hand: ${name}`, entries, root: makeOracleRoot(entries, parent) });
    }
    const r = prng(SEED);
    for (let i = 0; i < TREES; i++) {
      const entries = randomTree(r);
      cases.push({
        name: `generated #${i} (seed ${SEED})`,
        entries,
        root: makeOracleRoot(entries, parent),
      });
    }
    const built = performance.now();
    // The tools run under strace, one tree after another in each namespace:
    // two namespaces side by side use both cores.
    const [oracle, json] = await Promise.all([
      runRealTools(
        cases.map((c) => c.root),
        PARALLEL,
      ),
      pool(cases, PARALLEL, (c) => showConfigJson(c)),
    ]);
    for (const [i, o] of oracle.entries()) {
      results.push({ oracle: o, json: json[i] as ShowConfig });
    }
    console.log(
      `sysctl differential: ${toolVersions()}; seed ${SEED}; ${HAND_CASES.length} hand cases + ${TREES} generated trees; ` +
        `built in ${Math.round(built - started)} ms, both tools and vmaudit ran in ${Math.round(performance.now() - built)} ms`,
    );
  }, 300_000);

  // Removing ~500 trees can take seconds on a busy machine: more than the
  // default hook timeout.
  afterAll(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  }, 120_000);

  function check(filter: (c: Case) => boolean): { checked: number; failures: string[] } {
    let checked = 0;
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      if (!filter(c)) continue;
      checked++;
      const r = results[i];
      if (r) failures.push(...disagreements(c, r.oracle, r.json));
    }
    return { checked, failures };
  }

  test(`every hand case (${HAND_CASES.length}) agrees with both tools, write by write`, () => {
    const { checked, failures } = check((c) => c.name.startsWith("hand: "));
    expect(checked).toBe(HAND_CASES.length);
    expect(failures.join("\n")).toBe("");
  });

  test(`${TREES} generated trees (seed ${SEED}) agree with both tools, write by write`, () => {
    const { checked, failures } = check((c) => c.name.startsWith("generated "));
    expect(checked).toBe(TREES);
    expect(failures.join("\n")).toBe("");
  });

  test("the tools disagree with each other in some trees, and vmaudit reports both values", () => {
    const differ = results.filter(
      (r) => fold(r.oracle.systemd.writes) !== fold(r.oracle.procps.writes),
    );
    const writes = (t: "systemd" | "procps") =>
      results.filter((r) => r.oracle[t].writes.length > 0).length;
    console.log(
      `sysctl differential: of ${results.length} trees, systemd writes the key in ${writes("systemd")}, ` +
        `procps in ${writes("procps")}, and their boot values differ in ${differ.length}`,
    );
    expect(differ.length).toBeGreaterThan(10);
    for (const r of differ) expect(r.json.boot.systemd.value).not.toBe(r.json.boot.procps.value);
  });

  test("the kernel reads every string the tools wrote as kernelParseMaxMapCount says", () => {
    const strings = new Map<string, Buffer>();
    for (const r of results) {
      for (const w of [...r.oracle.systemd.writes, ...r.oracle.procps.writes])
        strings.set(w.toString("latin1"), w);
    }
    const written = strings.size;
    // Each feature of the kernel's parsing, whether or not a tree made a tool write it.
    for (const k of KERNEL_PROBES) strings.set(k, Buffer.from(k, "latin1"));
    const probes = [...strings.values()].filter(safeToProbe);
    // Most strings can be tried; the rest could read as a low limit if the
    // model were wrong, and are covered by the unit table instead.
    expect(probes.length).toBeGreaterThan(strings.size / 2);
    expect(KERNEL_PROBES.every((k) => safeToProbe(Buffer.from(k, "latin1")))).toBe(true);
    const wrong = probeKernel(probes);
    console.log(
      `sysctl differential: ${probes.length} strings tried on the real kernel (${written} distinct ones the tools wrote, ${KERNEL_PROBES.length} fixed ones)`,
    );
    expect(wrong).toEqual([]);
  });
});

/** Strings that show each rule of the kernel's parsing, all safe to try. */
const KERNEL_PROBES = [
  "262144\n",
  "262144",
  "262144 ",
  "262144 # es\n",
  "262144\t# es\n",
  "262144 262145\n",
  "300000 = 6\n",
  "262144abc\n",
  "262144\r\n",
  "262144\f\n",
  "262144\v\n",
  "262144\xa0\n",
  "262144\x00\n",
  "  262144\n",
  "\t\v\f\r262144\n",
  "\n\n262144\n",
  "\xa0262144\n",
  "\x85262144\n",
  "-262144\n",
  "+262144\n",
  "0x40000\n",
  "0X40000\n",
  "0x0040000\n",
  "0x40000x\n",
  "0400000\n",
  "0800000\n",
  "2147483647\n",
  "2147483648\n",
  "4294967296\n",
  "99999999999999999999\n",
  "00000000000000262144\n",
  "000000000000000262144\n",
];

/**
 * Whether writing `w` to the real limit is harmless even if the model is
 * wrong: every number the kernel could read at the start of it (as decimal,
 * octal or hex, ending where that base's digits end, and only if a space,
 * tab, newline or the end follows) is at least the kernel default.
 */
function safeToProbe(w: Buffer): boolean {
  const s = w
    .toString("latin1")
    .replace(/^[\t\n\v\f\r \xa0]+/, "")
    .replace(/^-/, "");
  const readings: [RegExp, number][] = [
    [/^([0-9]+)/, 10],
    [/^([0-7]+)/, 8],
    [/^0[xX]([0-9a-fA-F]+)/, 16],
  ];
  for (const [re, base] of readings) {
    const m = re.exec(s);
    if (!m) continue;
    const next = s[m[0].length];
    if (next !== undefined && next !== " " && next !== "\t" && next !== "\n") continue;
    const digits = m[1] ?? "";
    if (digits.length < 16 && Number.parseInt(digits, base) < KERNEL_DEFAULT) return false;
  }
  return true;
}

/** Write each string to the real limit in one write(2), read back, compare; always restore. */
function probeKernel(probes: Buffer[]): string[] {
  const original = readFileSync(LIMIT_PATH, "utf8");
  const wrong: string[] = [];
  try {
    for (const w of probes) {
      writeFileSync(LIMIT_PATH, `${KERNEL_DEFAULT}\n`);
      const fd = openSync(LIMIT_PATH, "w");
      let accepted = true;
      try {
        writeSync(fd, w);
      } catch (err) {
        if (errnoCode(err) !== "EINVAL") throw err;
        accepted = false;
      } finally {
        closeSync(fd);
      }
      const now = Number(readFileSync(LIMIT_PATH, "utf8").trim());
      if (now < KERNEL_DEFAULT) {
        writeFileSync(LIMIT_PATH, original);
        throw new Error(
          `the kernel took ${show(w)} as ${now}: restored ${original.trim()} at once`,
        );
      }
      const real = accepted ? now : undefined;
      const ours = kernelParseMaxMapCount(w);
      if (real !== ours)
        wrong.push(`${show(w)}: kernel ${real ?? "refuses"}, vmaudit ${ours ?? "refuses"}`);
    }
  } finally {
    writeFileSync(LIMIT_PATH, original);
  }
  return wrong;
}
