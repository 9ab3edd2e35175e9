/**
 * The layering rules of ARCHITECTURE.md ("Layering"), checked on every
 * import of main.ts, src/ and stress/. The list of layers is read from
 * ARCHITECTURE.md itself, so the rules are written once. A forbidden import
 * fails here with the file, the import and the rule it breaks.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

const REPO = join(import.meta.dir, "..", "..");

interface Import {
  /** Repository path of the importing file. */
  from: string;
  /** Repository path of the imported file, or the module name (`node:fs`). */
  to: string;
  kind: "static" | "type" | "dynamic";
  line: number;
}

/** Every .ts file of main.ts, src/ and stress/, as repository paths. */
function sourceFiles(): string[] {
  const out = ["main.ts"];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".ts")) out.push(path);
    }
  };
  walk("src");
  walk("stress");
  return out.sort();
}

/**
 * The imports of one file: `import ... from "x"` and `export ... from "x"`
 * statements at the start of a line (a JSDoc line starts with `*`), and
 * `import("x")` outside comments.
 */
export function importsOf(path: string, text: string): Import[] {
  const found: Import[] = [];
  const resolve = (spec: string) =>
    spec.startsWith(".") ? normalize(join(dirname(path), spec)) : spec;
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  const statement = /^(import|export)\b([^;]*?)\bfrom\s*["']([^"']+)["']/gm;
  for (const m of text.matchAll(statement)) {
    const typeOnly = /^\s*type\b/.test(m[2] ?? "");
    found.push({
      from: path,
      to: resolve(m[3] as string),
      kind: typeOnly ? "type" : "static",
      line: lineAt(m.index ?? 0),
    });
  }
  for (const m of text.matchAll(/^import\s*["']([^"']+)["']/gm))
    found.push({
      from: path,
      to: resolve(m[1] as string),
      kind: "static",
      line: lineAt(m.index ?? 0),
    });
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
    const lineStart = text.lastIndexOf("\n", m.index ?? 0) + 1;
    const before = text.slice(lineStart, m.index).trim();
    if (before.startsWith("*") || before.startsWith("//")) continue;
    found.push({
      from: path,
      to: resolve(m[1] as string),
      kind: "dynamic",
      line: lineAt(m.index ?? 0),
    });
  }
  return found;
}

/** The layers, top first, as ARCHITECTURE.md lists them: each a list of folders (`src/cli/`) and files. */
export function layersOf(architecture: string): string[][] {
  const section = architecture.split(/^## /m).find((s) => s.startsWith("Layering"));
  if (!section) throw new Error('ARCHITECTURE.md has no "## Layering" section');
  const layers = [...section.matchAll(/^\d+\. (.+)$/gm)].map((m) =>
    [...(m[1] as string).matchAll(/`([^`]+)`/g)].map((n) => n[1] as string),
  );
  if (layers.length < 5) throw new Error("ARCHITECTURE.md's layer list is missing or too short");
  return layers;
}

const layers = layersOf(readFileSync(join(REPO, "ARCHITECTURE.md"), "utf8"));
const files = sourceFiles();
const imports = files.flatMap((f) => importsOf(f, readFileSync(join(REPO, f), "utf8")));

/** The layer entry a repository path belongs to: the file itself, or its folder. */
function entryOf(path: string): { rank: number; entry: string } | undefined {
  for (const [rank, entries] of layers.entries())
    for (const entry of entries)
      if (entry.endsWith("/") ? path.startsWith(entry) : path === entry) return { rank, entry };
  return undefined;
}

const ours = (i: Import) => i.to.endsWith(".ts") || i.to.endsWith(".json");
const where = (i: Import) => `${i.from}:${i.line} imports ${i.to}`;

describe("layering (ARCHITECTURE.md)", () => {
  test("the import parser finds the imports a file is known to have", () => {
    const main = imports.filter((i) => i.from === "main.ts").map((i) => i.to);
    expect(main).toEqual(["src/cli/run_main.ts", "src/commands/index.ts"]);
    const lazy = imports.filter((i) => i.from === "src/commands/scan.ts" && i.kind === "dynamic");
    expect(lazy.map((i) => i.to)).toEqual(["src/commands/scan.run.ts"]);
  });

  test(`every source file has a layer (${files.length} files)`, () => {
    expect(files.filter((f) => entryOf(f) === undefined)).toEqual([]);
  });

  test("an import points down the list, or stays in its own folder", () => {
    const bad = imports.filter(ours).flatMap((i) => {
      const a = entryOf(i.from);
      const b = entryOf(i.to);
      if (!a || !b) return [`${where(i)}: not in any layer`];
      if (a.entry === b.entry || b.rank > a.rank) return [];
      return [
        b.rank === a.rank
          ? `${where(i)}: ${a.entry} and ${b.entry} are on the same layer and may not import each other`
          : `${where(i)}: ${b.entry} is above ${a.entry}`,
      ];
    });
    expect(bad).toEqual([]);
  });

  test("src/core/ imports nothing of ours outside src/core/", () => {
    const bad = imports
      .filter((i) => i.from.startsWith("src/core/") && ours(i) && !i.to.startsWith("src/core/"))
      .map(where);
    expect(bad).toEqual([]);
  });

  test("src/ reaches stress/ only through stress/contract.ts, and the worker only by the worker command's import()", () => {
    const bad = imports
      .filter((i) => !i.from.startsWith("stress/") && i.to.startsWith("stress/"))
      .filter(
        (i) =>
          i.to !== "stress/contract.ts" &&
          !(
            i.kind === "dynamic" &&
            i.from === "src/commands/stress_worker.ts" &&
            i.to === "stress/worker.ts"
          ),
      )
      .map(where);
    expect(bad).toEqual([]);
  });
});

describe("start-up: what every command pays for", () => {
  /** The modules a start evaluates: static imports from main.ts (type-only imports are erased). */
  function startupClosure(): Set<string> {
    const seen = new Set<string>();
    const queue = ["main.ts"];
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const i of imports)
        if (i.from === file && i.kind === "static") {
          if (ours(i)) queue.push(i.to);
          else seen.add(i.to);
        }
    }
    return seen;
  }
  const closure = startupClosure();

  test("no command's implementation (*.run.ts) is loaded at start-up", () => {
    expect([...closure].filter((m) => m.endsWith(".run.ts"))).toEqual([]);
  });

  test("no node: module, bun:ffi or the stress worker is loaded at start-up", () => {
    expect(
      [...closure].filter(
        (m) => m.startsWith("node:") || m.startsWith("bun:") || m.startsWith("stress/worker"),
      ),
    ).toEqual([]);
  });

  test("every command in the table loads its implementation with a dynamic import()", () => {
    const table = readFileSync(join(REPO, "src/commands/index.ts"), "utf8");
    const metas = [...table.matchAll(/from "\.\/([a-z_]+)\.ts"/g)].map(
      (m) => `src/commands/${m[1]}.ts`,
    );
    expect(metas.length).toBeGreaterThan(5);
    for (const meta of metas) {
      const lazy = imports.filter((i) => i.from === meta && i.kind === "dynamic");
      expect({ meta, lazy: lazy.length > 0 }).toEqual({ meta, lazy: true });
    }
  });
});

describe("test layers (ARCHITECTURE.md, Tests)", () => {
  const testFiles = (layer: string) =>
    readdirSync(join(REPO, "test", layer))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => ({
        name: `test/${layer}/${f}`,
        text: readFileSync(join(REPO, "test", layer, f), "utf8"),
      }));

  test("test/unit needs no build, no root and no process: it runs in seconds anywhere", () => {
    const banned =
      /\b(runBinary|binary\(\)|rootTest|IS_ROOT|spawnHolder|spawnWave|makeProcTree|makeSysctlRoot|Bun\.spawn)/;
    const bad = testFiles("unit")
      .filter((f) => f.name !== "test/unit/layering.test.ts" && banned.test(f.text))
      .map((f) => `${f.name}: ${banned.exec(f.text)?.[0]}`);
    expect(bad).toEqual([]);
  });

  test("test/fixture does not run the compiled binary (that is test/e2e)", () => {
    const banned = /\b(runBinary|binary\(\)|BINARY\b)/;
    const bad = testFiles("fixture")
      .filter((f) => banned.test(f.text))
      .map((f) => `${f.name}: ${banned.exec(f.text)?.[0]}`);
    expect(bad).toEqual([]);
  });
});
