/**
 * A podman container that boots the host's own systemd as PID 1, for tests of
 * systemd units on a machine whose PID 1 is not systemd (or must not be
 * touched). Its root is a small folder in TMPDIR; the host's /usr is mounted
 * read-only, so units and binaries installed on the host (dpkg -i) are what
 * it runs. The container has its own PID namespace: a scan in it sees its
 * processes only.
 *
 * podman runs here only with runc, the vfs storage driver, cgroupfs and
 * explicit ulimits (crun refuses this machine's cgroup layout).
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PODMAN = [
  "podman",
  "--runtime",
  "runc",
  "--storage-driver",
  "vfs",
  "--cgroup-manager",
  "cgroupfs",
];

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string[]): Run {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

export interface SystemdContainer {
  name: string;
  /** The container's root folder, as seen from the host. */
  rootfs: string;
  /** Run a command in the container (podman exec), with systemd's colours off. */
  exec(args: string[]): Run;
  /** Remove the container and its root folder. */
  stop(): void;
}

/** The folder a container boots from: the host's /usr, a minimal /etc, empty /var. */
function makeRootfs(dir: string, extraDirs: string[]): string[] {
  const volumes: string[] = ["-v", "/usr:/usr:ro"];
  for (const d of [
    "etc",
    "tmp",
    "run",
    "proc",
    "sys",
    "dev",
    "root",
    "var/tmp",
    "var/log",
    ...extraDirs,
  ]) {
    mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  }
  // Merged /usr: /bin, /lib, ... are links into it; otherwise mount them too.
  for (const d of ["bin", "sbin", "lib", "lib64", "lib32", "libx32"]) {
    const host = `/${d}`;
    if (!existsSync(host)) continue;
    if (lstatSync(host).isSymbolicLink()) symlinkSync(`usr/${d}`, join(dir, d));
    else volumes.push("-v", `${host}:${host}:ro`);
  }
  for (const f of ["passwd", "group", "nsswitch.conf", "ld.so.cache"]) {
    if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(dir, "etc", f));
  }
  symlinkSync("../usr/lib/os-release", join(dir, "etc", "os-release"));
  // Empty: systemd makes a transient machine id.
  writeFileSync(join(dir, "etc", "machine-id"), "");
  return volumes;
}

/**
 * Boot systemd in a container and wait until it reports running (or
 * degraded). `extraDirs` are created in its root (relative paths).
 * Throws with podman's output when it does not come up in 60 s.
 */
export async function bootSystemdContainer(
  opts: { extraDirs?: string[]; capAdd?: string[] } = {},
): Promise<SystemdContainer> {
  const rootfs = mkdtempSync(join(tmpdir(), "vmaudit-systemd-root-"));
  // It becomes the container's "/": services running as other users must traverse it.
  chmodSync(rootfs, 0o755);
  const name = `vmaudit-systemd-${process.pid}-${Date.now()}`;
  const volumes = makeRootfs(rootfs, opts.extraDirs ?? []);
  const stop = () => {
    run([...PODMAN, "rm", "--force", "--time", "0", name]);
    rmSync(rootfs, { recursive: true, force: true });
  };
  const started = run([
    ...PODMAN,
    "run",
    "--detach",
    "--name",
    name,
    "--network",
    "none",
    ...(opts.capAdd ?? []).flatMap((c) => ["--cap-add", c]),
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
    ...volumes,
    "--systemd=always",
    "--rootfs",
    rootfs,
    "/usr/lib/systemd/systemd",
  ]);
  if (started.code !== 0) {
    stop();
    throw new Error(
      `Cannot start a systemd container: podman run exited ${started.code}: ${started.stderr}`,
    );
  }
  const exec = (args: string[]) =>
    run([...PODMAN, "exec", "--env", "SYSTEMD_COLORS=0", name, ...args]);
  let state = "";
  for (let i = 0; i < 120; i++) {
    state = exec(["systemctl", "is-system-running"]).stdout.trim();
    if (state === "running" || state === "degraded") return { name, rootfs, exec, stop };
    await Bun.sleep(500);
  }
  const logs = run([...PODMAN, "logs", name]);
  stop();
  throw new Error(
    `systemd in the container did not come up (state "${state}"):\n${logs.stdout}${logs.stderr}`,
  );
}
