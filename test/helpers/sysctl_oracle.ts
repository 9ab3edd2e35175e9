/**
 * The real systemd-sysctl and procps `sysctl --system` as an oracle for the
 * boot-value analysis. Each config tree runs in a private mount namespace
 * (one `unshare --mount` for a whole batch): a tmpfs over /proc/sys holds a
 * plain, empty `vm/max_map_count` file, and the tree's etc, run,
 * usr/local/lib and usr/lib/sysctl.d are bind-mounted over the real ones.
 * strace records every write(2) each tool makes to that file; what the
 * kernel would make of those strings is a separate question (see
 * `kernelWriteMaxMapCount` and the probe of the real kernel in the test).
 *
 * Needs root, `unshare`, `strace`, /lib/systemd/systemd-sysctl and procps.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROC_SYS_DIRS } from "../../src/sysctl/glob.ts";

export const SYSTEMD_SYSCTL = "/lib/systemd/systemd-sysctl";
const TARGET = "/proc/sys/vm/max_map_count";

/** Why the oracle cannot run here, or undefined when it can. */
export function oracleUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (mount namespaces, bind mounts)";
  for (const tool of ["unshare", "strace", "sysctl"]) {
    if (!Bun.which(tool, { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` })) {
      return `needs ${tool} (scripts/test-deps.sh installs it)`;
    }
  }
  if (!existsSync(SYSTEMD_SYSCTL)) return `needs ${SYSTEMD_SYSCTL} (Debian package systemd)`;
  return undefined;
}

/** The tool versions, for the test log: the oracle is only as good as what it runs. */
export function toolVersions(): string {
  const sd = Bun.spawnSync([SYSTEMD_SYSCTL, "--version"]).stdout.toString().split("\n")[0];
  const ps = Bun.spawnSync(["sysctl", "--version"]).stdout.toString().trim();
  return `${sd}; ${ps}`;
}

/** What one tool did with one tree. */
export interface ToolRun {
  /** Every write(2) to /proc/sys/vm/max_map_count, in order, byte for byte. */
  writes: Buffer[];
  exitCode: number;
  stderr: string;
}

export interface OracleResult {
  systemd: ToolRun;
  procps: ToolRun;
}

/** Decode strace's `-xx` string: every byte as \xHH. */
function unhex(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    if (s[i] === "\\" && s[i + 1] === "x") {
      out.push(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 4;
    } else {
      out.push(s.charCodeAt(i));
      i++;
    }
  }
  return Buffer.from(out);
}

const WRITE_LINE =
  /^write\(\d+<((?:\\x[0-9a-f]{2})*)>, "((?:\\x[0-9a-f]{2})*)"(\.\.\.)?, (\d+)\) = (-?\d+)/;

/** The writes to TARGET in an strace log written with `-y -xx -s 65536`. */
export function writesToTarget(log: string): Buffer[] {
  const out: Buffer[] = [];
  for (const line of log.split("\n")) {
    const m = WRITE_LINE.exec(line);
    if (!m) continue;
    if (unhex(m[1] ?? "").toString("latin1") !== TARGET) continue;
    if (m[3]) throw new Error(`strace cut a write short: ${line.slice(0, 200)}`);
    out.push(unhex(m[2] ?? ""));
  }
  return out;
}

// One namespace for a batch. The fake max_map_count starts as the kernel
// shows it ("65530\n"): systemd reads it first and skips a write of the
// same value. procps runs in the C locale, as at boot (glob sorts names
// with strcoll). The tree's etc replaces /etc whole, so that a
// missing, linked or odd /etc/sysctl.conf is exactly what the tree holds
// (the tools need nothing else from /etc: Debian's ld.so finds the
// multiarch libraries without ld.so.cache). /lib is usr/lib on this
// merged-/usr system, so /lib/sysctl.d follows /usr/lib/sysctl.d.
const SCRIPT = `
set -u
out=$1; shift
cd /
mount -t tmpfs -o mode=0755 vmaudit-oracle /proc/sys || exit 90
mkdir ${PROC_SYS_DIRS.map((d) => `/proc/sys/${d}`).join(" ")} || exit 91
sysctl_bin=$(command -v sysctl)
i=0
for t in "$@"; do
  mount --bind "$t/etc" /etc &&
  mount --bind "$t/run" /run &&
  mount --bind "$t/usr/local/lib" /usr/local/lib &&
  mount --bind "$t/usr/lib/sysctl.d" /usr/lib/sysctl.d || exit 92
  printf '65530\\n' > ${TARGET}
  SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=info strace -qq -e trace=write -y -xx -s 65536 -o "$out/$i.sd" \\
    ${SYSTEMD_SYSCTL} 2> "$out/$i.sd.err"
  echo $? > "$out/$i.sd.rc"
  printf '65530\\n' > ${TARGET}
  LC_ALL=C strace -qq -e trace=write -y -xx -s 65536 -o "$out/$i.ps" "$sysctl_bin" --system > /dev/null 2> "$out/$i.ps.err"
  echo $? > "$out/$i.ps.rc"
  umount /usr/lib/sysctl.d /usr/local/lib /run /etc || exit 93
  i=$((i + 1))
done
`;

async function runBatch(roots: string[]): Promise<OracleResult[]> {
  const out = mkdtempSync(join(tmpdir(), "vmaudit-oracle-"));
  try {
    const p = Bun.spawn(
      [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        SCRIPT,
        "bash",
        out,
        ...roots,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    if (code !== 0) throw new Error(`oracle namespace failed (exit ${code}): ${stderr}`);
    return roots.map((_, i) => {
      const run = (tool: string): ToolRun => ({
        writes: writesToTarget(readFileSync(join(out, `${i}.${tool}`), "latin1")),
        exitCode: Number(readFileSync(join(out, `${i}.${tool}.rc`), "utf8").trim()),
        stderr: readFileSync(join(out, `${i}.${tool}.err`), "utf8"),
      });
      return { systemd: run("sd"), procps: run("ps") };
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * Run both tools on every root (each made by `makeOracleRoot`), in
 * `namespaces` private mount namespaces side by side (each takes a share of
 * the roots, in order).
 *
 * @example
 * const [r] = await runRealTools([root]);
 * r.systemd.writes.map(String); // ["262144\n"]
 */
export async function runRealTools(roots: string[], namespaces = 1): Promise<OracleResult[]> {
  const size = Math.ceil(roots.length / namespaces);
  const batches: string[][] = [];
  for (let i = 0; i < roots.length; i += size) batches.push(roots.slice(i, i + size));
  return (await Promise.all(batches.map(runBatch))).flat();
}

/** One entry of a test tree. Names may hold any byte but `/` and NUL, so paths are bytes. */
export type TreeEntry =
  | { path: Buffer; kind: "file"; data: Buffer }
  | { path: Buffer; kind: "dir" }
  | { path: Buffer; kind: "link"; target: Buffer };

/** The skeleton every oracle root has; entries go inside it. */
export const ORACLE_DIRS = [
  "/etc/sysctl.d",
  "/run/sysctl.d",
  "/usr/local/lib/sysctl.d",
  "/usr/lib/sysctl.d",
] as const;

/**
 * A root the oracle (and vmaudit's --root) can use: the four sysctl.d
 * directories, /lib a link to usr/lib as on this host, and `entries`.
 */
export function makeOracleRoot(entries: TreeEntry[], parent?: string): string {
  const root = mkdtempSync(join(parent ?? tmpdir(), "t-"));
  for (const d of ORACLE_DIRS) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  symlinkSync("usr/lib", join(root, "lib"));
  for (const e of entries) {
    const full = Buffer.concat([Buffer.from(root), e.path]);
    if (e.kind === "file") writeFileSync(full, e.data, { mode: 0o644 });
    else if (e.kind === "dir") mkdirSync(full, { mode: 0o755 });
    else symlinkSync(e.target, full);
  }
  return root;
}
