/**
 * Build fake proc trees in temp dirs for scan tests.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface FakeProcess {
  /** maps text; omit to leave the file out (the process vanished). */
  maps?: string;
  cmdline?: string | Buffer;
  comm?: string;
  /** Kernel threads: empty maps and PF_KTHREAD in stat. */
  kthread?: boolean;
  /** File mode for maps, e.g. 0o000 for an unreadable process. */
  mapsMode?: number;
  /** Target of the `exe` symlink; omit to leave it out. */
  exe?: string;
}

export interface FakeProcTree {
  processes: Record<number, FakeProcess>;
  maxMapCount?: string;
  slabinfo?: string;
  /** `sys/kernel/hostname` (a newline is added, as the kernel writes it); omit to leave it out. */
  hostname?: string;
  /** `sys/kernel/osrelease`. */
  osrelease?: string;
  /** `sys/kernel/random/boot_id`. */
  bootId?: string;
}

export const SAMPLE_SLABINFO = `slabinfo - version: 2.1
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
vm_area_struct      4200   4410    192   21    1 : tunables    0    0    0 : slabdata    210    210      0
`;

/** Make a proc tree; returns its path. Remove it with `removeTree`. */
export function makeProcTree(tree: FakeProcTree): string {
  const root = mkdtempSync(join(tmpdir(), "vmaudit-proc-"));
  chmodSync(root, 0o755);
  for (const [pid, p] of Object.entries(tree.processes)) {
    const dir = join(root, pid);
    mkdirSync(dir, { mode: 0o755 });
    if (p.kthread) {
      writeFileSync(join(dir, "maps"), "");
      writeFileSync(join(dir, "cmdline"), "");
      writeFileSync(join(dir, "comm"), `${p.comm ?? "kworker/0:1"}\n`);
      writeFileSync(
        join(dir, "stat"),
        `${pid} (${p.comm ?? "kworker/0:1"}) I 2 0 0 0 -1 69238880 0 0\n`,
      );
      continue;
    }
    if (p.maps !== undefined) {
      writeFileSync(join(dir, "maps"), p.maps);
      if (p.mapsMode !== undefined) chmodSync(join(dir, "maps"), p.mapsMode);
    }
    if (p.cmdline !== undefined) writeFileSync(join(dir, "cmdline"), p.cmdline);
    if (p.comm !== undefined) writeFileSync(join(dir, "comm"), `${p.comm}\n`);
    if (p.exe !== undefined) symlinkSync(p.exe, join(dir, "exe"));
    writeFileSync(join(dir, "stat"), `${pid} (${p.comm ?? "x"}) S 1 1 1 0 -1 4194560 0 0\n`);
  }
  if (tree.maxMapCount !== undefined) {
    mkdirSync(join(root, "sys", "vm"), { recursive: true });
    writeFileSync(join(root, "sys", "vm", "max_map_count"), `${tree.maxMapCount}\n`);
  }
  if (tree.slabinfo !== undefined) writeFileSync(join(root, "slabinfo"), tree.slabinfo);
  const kernel: [string, string | undefined][] = [
    ["sys/kernel/hostname", tree.hostname],
    ["sys/kernel/osrelease", tree.osrelease],
    ["sys/kernel/random/boot_id", tree.bootId],
  ];
  for (const [path, value] of kernel) {
    if (value === undefined) continue;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${value}\n`);
  }
  return root;
}

export function removeTree(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** A maps text with `n` anonymous lines, optionally ending in [vsyscall]. */
export function mapsText(n: number, vsyscall = false): string {
  let text = "";
  for (let i = 0; i < n; i++) {
    const start = (0x10000000 + i * 0x2000).toString(16);
    const end = (0x10000000 + i * 0x2000 + 0x1000).toString(16);
    text += `${start}-${end} r--p 00000000 00:00 0 \n`;
  }
  if (vsyscall)
    text += "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
  return text;
}
