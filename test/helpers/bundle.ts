/**
 * Tests that run code as another user (`setpriv --reuid=65534`) cannot load
 * modules from the checkout when it is in a folder only its owner may enter
 * (a 0700 home directory). Bundle the module into a temp folder they can read.
 */
import { chmodSync } from "node:fs";
import { basename, join } from "node:path";

/**
 * Bundle `entry` (a .ts file and everything it imports) into `outdir`, make
 * both readable by every user, and return the bundle's path.
 *
 * @example
 * const mod = await bundleForAnyUser(join(REPO, "src/proc/process.ts"), tempDir);
 */
export async function bundleForAnyUser(entry: string, outdir: string): Promise<string> {
  const built = await Bun.build({ entrypoints: [entry], outdir, target: "bun" });
  if (!built.success) throw new Error(`Cannot bundle "${entry}": ${built.logs.join("\n")}`);
  const out = join(outdir, basename(entry).replace(/\.ts$/, ".js"));
  chmodSync(outdir, 0o755);
  chmodSync(out, 0o644);
  return out;
}
