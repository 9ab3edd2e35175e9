/**
 * Test helper: a process whose VMA count rises and falls on command, for
 * `watch` tests. Reads lines on stdin: `up N` maps N one-page VMAs, `down N`
 * unmaps N; after each it prints `at SIZE` (the pool's size). Prints `ready`
 * first, exits when stdin closes. Run with `bun test/helpers/wave_vmas.ts`.
 */
import { VmaPool } from "../../stress/vma_pool.ts";

const pool = new VmaPool();
let pending = "";
process.stdout.write("ready\n");
process.stdin.on("data", (chunk) => {
  pending += chunk.toString();
  let nl = pending.indexOf("\n");
  while (nl !== -1) {
    const [cmd, n] = pending.slice(0, nl).trim().split(" ");
    pending = pending.slice(nl + 1);
    const count = Number(n);
    if (cmd === "up") {
      for (let i = 0; i < count; i++) {
        const r = pool.mapOne();
        if (!r.ok) {
          pool.release(256);
          process.stdout.write(`failed errno=${r.errno}\n`);
          process.exit(1);
        }
      }
    } else if (cmd === "down") {
      pool.release(count);
    }
    process.stdout.write(`at ${pool.size}\n`);
    nl = pending.indexOf("\n");
  }
});
process.stdin.on("end", () => process.exit(0));
