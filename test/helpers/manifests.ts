/**
 * The Kubernetes manifests of deploy/kubernetes/, read as plain objects, and
 * the parts of the DaemonSet that tests look up (the capability set, the
 * commands of its containers).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { REPO } from "./env.ts";

export const DEPLOY = join(REPO, "deploy");
export const KUBERNETES = join(DEPLOY, "kubernetes");

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML until validated
export type Manifest = Record<string, any>;

/** Every YAML document of one file (a file may hold several, split by `---`). */
export function parseYamlDocuments(text: string): Manifest[] {
  const parsed = Bun.YAML.parse(text);
  const docs = Array.isArray(parsed) && /^---/m.test(text) ? parsed : [parsed];
  return docs.filter((d) => d !== null && d !== undefined) as Manifest[];
}

/** Every manifest under deploy/kubernetes/ (folders included), with the file it came from. */
export function loadManifests(): { file: string; doc: Manifest }[] {
  const out: { file: string; doc: Manifest }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(name)) {
        for (const doc of parseYamlDocuments(readFileSync(path, "utf8"))) {
          out.push({ file: relative(REPO, path), doc });
        }
      }
    }
  };
  walk(KUBERNETES);
  return out;
}

export function daemonSet(): Manifest {
  const found = loadManifests().filter((m) => m.doc.kind === "DaemonSet");
  if (found.length !== 1) throw new Error(`Expected one DaemonSet, found ${found.length}`);
  return (found[0] as { doc: Manifest }).doc;
}

/** The DaemonSet's main container, the exporter. */
export function exporterContainer(ds: Manifest = daemonSet()): Manifest {
  const c = (ds.spec.template.spec.containers as Manifest[]).find((x) => x.name === "exporter");
  if (!c) throw new Error("The DaemonSet has no container named exporter");
  return c;
}

/**
 * The capabilities the exporter adds after dropping ALL: the set
 * test/e2e/image.test.ts proves to be the smallest that reads every process.
 */
export function exporterCapabilities(ds: Manifest = daemonSet()): string[] {
  const caps = exporterContainer(ds).securityContext?.capabilities;
  if (!caps || JSON.stringify(caps.drop) !== '["ALL"]') {
    throw new Error("The exporter container must drop ALL capabilities");
  }
  return [...(caps.add as string[])];
}
