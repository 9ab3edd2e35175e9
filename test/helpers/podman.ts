/**
 * podman for the image tests, in a private store inside a temp dir: tests do
 * not see (or clash with) anyone else's images and containers, and removing
 * the dir removes everything they made.
 *
 * On these machines podman needs runc (crun refuses the cgroup layout), the
 * vfs storage driver, cgroupfs, and explicit ulimits; `kube play` has no
 * --ulimit flag, so the ulimits also go into a containers.conf of its own.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Podman {
  /** Run `podman ARGS` with the private store; waits for it. */
  run(args: string[]): Run;
  /** `podman run --rm` with the ulimits and no network, then `runArgs`. */
  container(runArgs: string[]): Run;
  /** Remove every pod and container (the store itself goes with its dir). */
  cleanUp(): void;
}

export const ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

export function makePodman(dir: string): Podman {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, "containers.conf");
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n');
  const global = [
    "--root",
    join(dir, "root"),
    "--runroot",
    join(dir, "run"),
    "--tmpdir",
    join(dir, "libpod-tmp"),
    "--storage-driver",
    "vfs",
    "--runtime",
    "runc",
    "--cgroup-manager",
    "cgroupfs",
    "--events-backend",
    "file",
  ];
  const run = (args: string[]): Run => {
    const p = Bun.spawnSync(["podman", ...global, ...args], {
      env: { ...process.env, CONTAINERS_CONF: conf },
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
  };
  return {
    run,
    container: (runArgs) => run(["run", "--rm", "--network", "none", ...ULIMITS, ...runArgs]),
    cleanUp() {
      run(["pod", "rm", "--all", "--force"]);
      run(["rm", "--all", "--force"]);
    },
  };
}
