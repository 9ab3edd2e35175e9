/**
 * Test and bench helper: map N extra one-page VMAs, print "ready N", then wait
 * until stdin closes. Run with `bun test/helpers/hold_vmas.ts N`.
 */
import { VmaPool } from "../../stress/vma_pool.ts";

const n = Number(process.argv[2] ?? "0");
const pool = new VmaPool();
for (let i = 0; i < n; i++) {
  const r = pool.mapOne();
  if (!r.ok) {
    pool.release(256);
    process.stdout.write(`failed errno=${r.errno} at ${pool.size}\n`);
    process.exit(1);
  }
}
process.stdout.write(`ready ${pool.size}\n`);
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
