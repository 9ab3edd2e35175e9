/**
 * The container image (scripts/image.ts, `npm run image`), tested with the
 * real podman: built once into a temp dir, loaded into a private podman store
 * (helpers/podman.ts), then run against the host's /proc.
 *
 * Needs root (podman as root, the host's /proc, a VMA holder owned by root)
 * and changes vm.max_map_count (apply in a privileged container, kube play):
 * run under the shared kernel lock, as `npm test` does:
 *   flock /tmp/vmaudit-kernel.lock node_modules/.bin/bun test test/image.test.ts
 * The limit is saved first and restored (and checked) after each change.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { buildCommit, IMAGE_ARTIFACT } from "../../scripts/build.ts";
import {
  buildImage,
  DEFAULT_COMMAND,
  IMAGE_BINARY,
  IMAGE_PLATFORMS,
  IMAGE_REF_NAME,
  sourceDateEpoch,
  withSumLine,
} from "../../scripts/image.ts";
import { EXPORTER_PORT } from "../../src/commands/exporter.ts";
import { resultOf, withTemporaryLimit } from "../../src/limit/temporary.ts";
import { BINARY, IS_ROOT, kernelCount, REPO, readLimit, rootTest } from "../helpers/env.ts";
import { freePort } from "../helpers/exporter.ts";
import { type Holder, spawnHolder } from "../helpers/holder.ts";
import { daemonSet, exporterCapabilities, exporterContainer } from "../helpers/manifests.ts";
import { makePodman, type Podman, type Run, ULIMITS } from "../helpers/podman.ts";
import { findSamples, parsePromText } from "../helpers/prom_text.ts";

const LIMIT = "/proc/sys/vm/max_map_count";
const QEMU = "qemu-aarch64-static";
const HOLD = 3000;

/** The command that raises the host's limit, as the DaemonSet's init container runs it. */
const raiseCommand = (n: number): string[] => ["apply", "--at-least", String(n)];

// biome-ignore lint/suspicious/noExplicitAny: JSON from the binary
type Json = any;

interface Coverage {
  unreadable: number;
  unreadableProcesses: { pid: number; comm: string }[];
}

let work = "";
let archive = "";
let podman: Podman;
let amd64 = "";
let arm64 = "";
let loaded: Run;
let pulled: Run;
let holder: Holder | undefined;
let original = 0;

/** The archive, unpacked once into the work dir. */
function unpack(): string {
  const dir = join(work, "unpacked");
  if (!existsSync(dir)) {
    mkdirSync(dir);
    expect(Bun.spawnSync(["tar", "-xf", archive, "-C", dir]).exitCode).toBe(0);
  }
  return dir;
}

/** The path of one architecture's layer blob, found through the archive's index. */
function layerBlob(arch: string): string {
  const dir = unpack();
  const blob = (digest: string) => join(dir, "blobs", "sha256", digest.replace("sha256:", ""));
  const top = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const index = JSON.parse(readFileSync(blob(top.manifests[0].digest), "utf8"));
  const entry = index.manifests.find((m: Json) => m.platform.architecture === arch);
  const manifest = JSON.parse(readFileSync(blob(entry.digest), "utf8"));
  return blob(manifest.layers[0].digest);
}

/** Every file of one architecture's layer, as absolute paths, from the archive itself. */
function layerFiles(arch: string): string[] {
  const list = Bun.spawnSync(["tar", "-tzvf", layerBlob(arch)], { stdout: "pipe" });
  return list.stdout
    .toString()
    .split("\n")
    .filter((l) => l.startsWith("-"))
    .map((l) => `/${l.split(/\s+/).at(-1)}`)
    .sort();
}

/** The files `ld.so --list` maps for the binary: the loader and each library's path. */
function loaderList(output: string): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  for (const line of output.split("\n")) {
    const arrow = /^\s*(\S+) => (.+?) \(0x/.exec(line);
    if (arrow) files.push(arrow[2] as string);
    else if (/=> not found/.test(line)) missing.push(line.trim());
    else {
      const bare = /^\s*(\/\S+) \(0x/.exec(line);
      if (bare) files.push(bare[1] as string);
    }
  }
  return { files: files.sort(), missing };
}

function hostScan(): Json {
  const p = Bun.spawnSync([BINARY, "scan", "--json", "--top", "1000"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  return JSON.parse(p.stdout.toString());
}

/** `scan --procfs /host/proc` in the amd64 image, with --cap-drop=all plus `caps`. */
function containerScan(caps: string[], extra: string[] = []): Json {
  const r = podman.container([
    "--cap-drop=all",
    ...caps.flatMap((c) => ["--cap-add", c]),
    "-v",
    "/proc:/host/proc:ro",
    ...extra,
    amd64,
    "scan",
    "--procfs",
    "/host/proc",
    "--json",
    "--top",
    "1000",
  ]);
  if (r.code !== 0) throw new Error(`scan in the container failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const unreadablePids = (c: Coverage) => c.unreadableProcesses.map((p) => p.pid).sort();

/** Every subset of `set` smaller than it (the empty set included). */
function properSubsets(set: string[]): string[][] {
  const out: string[][] = [];
  for (let mask = 0; mask < 2 ** set.length - 1; mask++) {
    out.push(set.filter((_, i) => mask & (1 << i)));
  }
  return out;
}

/** A limit above the current one, so a raise is visible whatever the host started at. */
function raiseTarget(): number {
  return original < 262144 ? 262144 : original + 10000;
}

function restoreLimit(): void {
  if (readLimit() !== original) writeFileSync(LIMIT, `${original}\n`);
  expect(readLimit()).toBe(original);
}

test("withSumLine() adds the image's line and replaces an old one, keeping the binaries' lines", () => {
  const bin = `${"a".repeat(64)}  vmaudit-linux-x64\n`;
  expect(withSumLine("", IMAGE_ARTIFACT, "b".repeat(64))).toBe(
    `${"b".repeat(64)}  ${IMAGE_ARTIFACT}\n`,
  );
  const once = withSumLine(bin, IMAGE_ARTIFACT, "b".repeat(64));
  expect(withSumLine(once, IMAGE_ARTIFACT, "c".repeat(64))).toBe(
    `${bin}${"c".repeat(64)}  ${IMAGE_ARTIFACT}\n`,
  );
});

test("sourceDateEpoch() takes SOURCE_DATE_EPOCH, else the commit time, and refuses garbage", () => {
  expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: "1700000000" })).toBe(1700000000);
  // Without it, the HEAD commit's time (or a clear error where git cannot
  // read this checkout, as for another user than its owner).
  const git = Bun.spawnSync(["git", "log", "-1", "--format=%ct", "HEAD"], { cwd: REPO });
  if (git.exitCode === 0) {
    expect(sourceDateEpoch({})).toBe(Number(git.stdout.toString().trim()));
  } else {
    expect(() => sourceDateEpoch({})).toThrow("Cannot tell the commit time: set SOURCE_DATE_EPOCH");
  }
  expect(() => sourceDateEpoch({ SOURCE_DATE_EPOCH: "yesterday" })).toThrow(
    'Cannot use SOURCE_DATE_EPOCH "yesterday": expected seconds since 1970',
  );
});

test("the default command is the exporter on every address, over the host's /proc", () => {
  expect([...DEFAULT_COMMAND]).toEqual([
    "exporter",
    "--listen",
    `0.0.0.0:${EXPORTER_PORT}`,
    "--procfs",
    "/host/proc",
  ]);
});

describe("the image archive", () => {
  beforeAll(async () => {
    if (!IS_ROOT) return;
    work = mkdtempSync(join(tmpdir(), "vmaudit-image-test-"));
    archive = (await buildImage(join(work, "out"))).path;
    podman = makePodman(join(work, "podman"));
    // Loaded here, not in a test, so any test can run alone (bun test -t).
    loaded = podman.run(["load", "-i", archive]);
    const id = podman.run([
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      `localhost/${IMAGE_REF_NAME}`,
    ]);
    amd64 = id.stdout.trim();
    pulled = podman.run(["pull", "--arch", "arm64", `oci-archive:${archive}`]);
    arm64 = pulled.stdout.trim().split("\n").at(-1) ?? "";
    original = readLimit();
    holder = await spawnHolder(HOLD);
  }, 120_000);

  afterAll(async () => {
    if (!IS_ROOT) return;
    await holder?.stop();
    podman?.cleanUp();
    if (readLimit() !== original) writeFileSync(LIMIT, `${original}\n`);
    rmSync(work, { recursive: true, force: true });
    expect(readLimit()).toBe(original);
  });

  rootTest("SHA256SUMS has the archive's line, as sha256sum -c reads it", () => {
    const r = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], {
      cwd: join(work, "out"),
      stdout: "pipe",
    });
    expect(r.stdout.toString()).toBe(`${IMAGE_ARTIFACT}: OK\n`);
    expect(r.exitCode).toBe(0);
  });

  rootTest(
    "a second build in another directory, with another TMPDIR, gives the same bytes",
    () => {
      const other = join(work, "again");
      const otherTmp = join(work, "other-tmp");
      mkdirSync(otherTmp, { recursive: true });
      const p = Bun.spawnSync(
        [process.execPath, join(REPO, "scripts", "image.ts"), "--outdir", other],
        { env: { ...process.env, TMPDIR: otherTmp }, stdout: "pipe", stderr: "pipe" },
      );
      expect(p.stderr.toString()).toBe("");
      expect(p.exitCode).toBe(0);
      expect(readFileSync(join(other, "SHA256SUMS"), "utf8")).toBe(
        readFileSync(join(work, "out", "SHA256SUMS"), "utf8"),
      );
    },
    120_000,
  );

  rootTest("its metadata names no host, user or build path, and every entry is 0/0", () => {
    const dir = unpack();
    const blobs = join(dir, "blobs", "sha256");
    const texts = [readFileSync(join(dir, "index.json"), "utf8")];
    for (const name of readdirSync(blobs)) {
      const bytes = readFileSync(join(blobs, name));
      if (bytes.length < 65536) texts.push(bytes.toString("utf8"));
    }
    const configs = texts.map((t) => JSON.parse(t)).filter((j) => j.rootfs);
    expect(configs.map((c) => c.architecture).sort()).toEqual(["amd64", "arm64"]);
    for (const c of configs) {
      // Nothing but these: no Hostname, User, WorkingDir, author or history.
      expect(Object.keys(c).sort()).toEqual(["architecture", "config", "created", "os", "rootfs"]);
      expect(Object.keys(c.config).sort()).toEqual([
        "Cmd",
        "Entrypoint",
        "Env",
        "ExposedPorts",
        "Labels",
      ]);
    }
    const user = userInfo().username;
    for (const t of texts) {
      for (const leak of [work, REPO, `"${hostname()}"`, `"${user}"`, "/tmp/"]) {
        expect({ leak, found: t.includes(leak) }).toEqual({ leak, found: false });
      }
    }
    // Owner and group as numbers only, both 0, in the archive and in each layer.
    const owners = (args: string[]) =>
      new Set(
        Bun.spawnSync(["tar", ...args], { stdout: "pipe" })
          .stdout.toString()
          .trim()
          .split("\n")
          .map((l) => l.split(/\s+/)[1]),
      );
    expect(owners(["-tvf", archive])).toEqual(new Set(["0/0"]));
    for (const arch of ["amd64", "arm64"]) {
      expect(owners(["-tzvf", layerBlob(arch)])).toEqual(new Set(["0/0"]));
    }
  });

  rootTest("podman load names it after the version; the amd64 image runs vmaudit", () => {
    expect(loaded.code).toBe(0);
    expect(loaded.stdout).toContain(`Loaded image: localhost/${IMAGE_REF_NAME}`);
    expect(amd64).toMatch(/^[0-9a-f]{64}$/);
    const r = podman.container([amd64, "--version"]);
    expect(r.stdout).toBe(`vmaudit ${pkg.version} (commit ${buildCommit()})\n`);
    expect(r.code).toBe(0);
  });

  rootTest("its config: entry point vmaudit, the exporter as default command, no history", () => {
    const r = podman.run(["image", "inspect", amd64]);
    const [img] = JSON.parse(r.stdout);
    expect(img.Architecture).toBe("amd64");
    expect(img.Config.Entrypoint).toEqual([IMAGE_BINARY]);
    expect(img.Config.Cmd).toEqual([...DEFAULT_COMMAND]);
    expect(Object.keys(img.Config.ExposedPorts)).toEqual([`${EXPORTER_PORT}/tcp`]);
    expect(img.Config.Labels["org.opencontainers.image.version"]).toBe(pkg.version);
    expect(img.Config.Labels["org.opencontainers.image.revision"]).toBe(buildCommit());
    expect(Date.parse(img.Created) / 1000).toBe(sourceDateEpoch());
    expect(img.History ?? []).toEqual([]);
  });

  rootTest(
    "the amd64 layer holds exactly the binary and what its loader maps (ld.so --list inside)",
    () => {
      const p = IMAGE_PLATFORMS.find((x) => x.arch === "amd64");
      const loader = "/lib64/ld-linux-x86-64.so.2";
      const r = podman.container(["--entrypoint", loader, amd64, "--list", IMAGE_BINARY]);
      expect(r.code).toBe(0);
      const listed = loaderList(r.stdout);
      expect(listed.missing).toEqual([]);
      expect(listed.files).toContain(loader);
      expect(listed.files.some((f) => f.startsWith(`/lib/${p?.triplet}/libc.so.6`))).toBe(true);
      expect(layerFiles("amd64")).toEqual([...listed.files, IMAGE_BINARY].sort());
    },
  );

  rootTest("scan --procfs /host/proc in the container finds a host process's VMAs, exactly", () => {
    const h = holder as Holder;
    const j = containerScan(exporterCapabilities());
    const seen = j.topProcesses.find((p: Json) => p.pid === h.pid);
    expect(seen?.vmas).toBe(kernelCount(h.pid));
    expect(seen.vmas).toBeGreaterThanOrEqual(HOLD);
  });

  rootTest(
    "the DaemonSet's capabilities read every process root on the host can; no smaller set does",
    () => {
      const caps = exporterCapabilities();
      expect(caps.length).toBeGreaterThan(0);
      const h = holder as Holder;
      // Root on the host is the reference: in some sandboxes even it cannot
      // read pid 1, and no capability in a container can do better.
      const host = hostScan().coverage as Coverage;
      const full = containerScan(caps);
      expect(full.coverage.unreadable).toBe(host.unreadable);
      expect(unreadablePids(full.coverage)).toEqual(unreadablePids(host));
      expect(full.topProcesses.some((p: Json) => p.pid === h.pid)).toBe(true);
      for (const subset of properSubsets(caps)) {
        const j = containerScan(subset);
        const label = `--cap-drop=all ${subset.map((c) => `--cap-add ${c}`).join(" ")}`;
        expect({ label, more: j.coverage.unreadable > host.unreadable }).toEqual({
          label,
          more: true,
        });
        expect(j.topProcesses.some((p: Json) => p.pid === h.pid)).toBe(false);
      }
    },
    60_000,
  );

  rootTest(
    "raising the limit in an unprivileged container fails with the reason and changes nothing",
    () => {
      const target = raiseTarget();
      const r = podman.container([amd64, ...raiseCommand(target)]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(
        /^vmaudit: Cannot write "\/proc\/sys\/vm\/max_map_count" \(EROFS\): \/proc\/sys is read-only here/,
      );
      expect(r.stderr).toContain(
        "vm.max_map_count belongs to the host kernel and is not namespaced: run this in a privileged container or on the host\n",
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(readLimit()).toBe(original);
    },
  );

  rootTest("raising the limit in a privileged container changes the host's value", () => {
    const target = raiseTarget();
    try {
      const r = podman.container(["--privileged", amd64, ...raiseCommand(target), "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).live).toEqual({
        path: LIMIT,
        previous: original,
        value: target,
        changed: true,
      });
      expect(readLimit()).toBe(target);
      // A floor: the next start of the same container writes nothing.
      const again = podman.container(["--privileged", amd64, ...raiseCommand(target), "--json"]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout).changed).toBe(false);
      expect(readLimit()).toBe(target);
    } finally {
      restoreLimit();
    }
  });

  /** GET a URL until it answers (a container needs a moment to listen). */
  async function fetchWhenUp(url: string): Promise<Response> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        return await fetch(url);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await Bun.sleep(200);
      }
    }
  }

  /** The holder's count and the unreadable count in a scrape, against the kernel and a root scan on the host. */
  function expectExactScrape(body: string): void {
    const h = holder as Holder;
    const samples = parsePromText(body);
    expect(findSamples(samples, "vmaudit_process_vmas", { pid: String(h.pid) })[0]?.value).toBe(
      kernelCount(h.pid),
    );
    const host = hostScan().coverage as Coverage;
    expect(findSamples(samples, "vmaudit_processes_unreadable")[0]?.value).toBe(host.unreadable);
  }

  rootTest(
    "the image's default command serves the host's processes: /healthz, /metrics with the exact count, a clean stop",
    async () => {
      const port = await freePort();
      const name = "vmaudit-exporter-default";
      // Podman's port publishing (its bridge network) to a free loopback
      // port; no command, so the image's own: the exporter on 0.0.0.0.
      const run = podman.run([
        "run",
        "--detach",
        "--name",
        name,
        ...ULIMITS,
        "--cap-drop=all",
        ...exporterCapabilities().flatMap((c) => ["--cap-add", c]),
        "-v",
        "/proc:/host/proc:ro",
        "--publish",
        `127.0.0.1:${port}:${EXPORTER_PORT}`,
        amd64,
      ]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      try {
        const health = await fetchWhenUp(`http://127.0.0.1:${port}/healthz`);
        expect([health.status, await health.text()]).toEqual([200, "ok\n"]);
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(metrics.status).toBe(200);
        expectExactScrape(await metrics.text());
        expect(podman.run(["stop", "--time", "10", name]).code).toBe(0);
        expect(podman.run(["inspect", name, "--format", "{{.State.ExitCode}}"]).stdout.trim()).toBe(
          "0",
        );
        const log = podman.run(["logs", name]).stderr;
        expect(log).toContain(
          `listening on http://0.0.0.0:${EXPORTER_PORT}/ (procfs /host/proc, at most one scan per 5 s)`,
        );
        expect(log).toContain('"GET /metrics" 200');
        expect(log.trimEnd().split("\n").at(-1)).toEndWith("stopping (SIGTERM)");
      } finally {
        podman.run(["rm", "--force", name]);
      }
    },
    60_000,
  );

  rootTest(
    "podman kube play runs the DaemonSet's pod: its own init command raises the limit, the exporter serves every process",
    async () => {
      const ds = daemonSet();
      const spec = structuredClone(ds.spec.template.spec);
      const tag = "localhost/vmaudit-test:amd64";
      expect(podman.run(["tag", amd64, tag]).code).toBe(0);
      for (const c of [...spec.initContainers, ...spec.containers]) c.image = tag;
      // The init container runs the manifest's own command, a floor.
      const init = spec.initContainers[0].args as string[];
      expect(init.slice(0, 2)).toEqual(["apply", "--at-least"]);
      const floor = Number(init[2]);
      // From a lower temporary limit (journal, set, restore), so the floor
      // has something to raise whatever this machine's value is.
      const low = Math.min(original, floor - 1);
      const main = exporterContainer({ spec: { template: { spec } } });
      // The exporter keeps the manifest's args, ports and probes. Two
      // changes for one machine: its port is published on a free loopback
      // port (a DaemonSet is reached by pod IP, which the test cannot
      // route to), and the pod does not restart (podman 4.3 fails to remove
      // a finished init container under restartPolicy Always).
      const port = await freePort();
      main.ports[0].hostPort = port;
      main.ports[0].hostIP = "127.0.0.1";
      spec.restartPolicy = "Never";
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: "vmaudit",
          labels: ds.spec.template.metadata.labels,
          // Keep the init container after it ran (podman removes it by
          // default), so its output can be read.
          annotations: { "io.podman.annotations.init.container.type": "always" },
        },
        spec,
      };
      const file = join(work, "pod.json");
      writeFileSync(file, JSON.stringify(pod));
      const temporary = { procfs: "/proc", runDir: join(work, "run"), command: "image.test.ts" };
      try {
        const raised = resultOf(
          await withTemporaryLimit(low, temporary, () => {
            expect(readLimit()).toBe(low);
            const play = podman.run(["kube", "play", file]);
            expect(play.code).toBe(0);
            return readLimit();
          }),
        );
        expect(raised).toBe(floor);
        expect(readLimit()).toBe(original);
        const initName = `vmaudit-${spec.initContainers[0].name}`;
        const initLogs = podman.run(["logs", initName]);
        expect(initLogs.stdout).toContain(`Current value: ${low}\nAt least:      ${floor}\n`);
        const name = `vmaudit-${main.name}`;
        const args = podman.run(["inspect", name, "--format", "{{json .Args}}"]);
        expect(JSON.parse(args.stdout)).toEqual([...DEFAULT_COMMAND]);
        // What the kubelet's probes ask, asked here: podman turns an
        // httpGet probe into a `curl` health check run inside the
        // container (the image has no curl and no shell), names no port
        // for a named one (port 0), and runs it only from systemd timers.
        const health = await fetchWhenUp(
          `http://127.0.0.1:${port}${main.readinessProbe.httpGet.path}`,
        );
        expect(health.status).toBe(200);
        const check = podman.run([
          "inspect",
          name,
          "--format",
          "{{json .Config.Healthcheck.Test}}",
        ]);
        console.log(`podman's health check from the liveness probe: ${check.stdout.trim()}`);
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
        expectExactScrape(await metrics.text());
        const inspect = podman.run([
          "inspect",
          name,
          "--format",
          "{{json .EffectiveCaps}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.Privileged}}",
        ]);
        const caps = exporterCapabilities().map((c) => `CAP_${c}`);
        expect(inspect.stdout.trim()).toBe(`${JSON.stringify(caps)} true false`);
      } finally {
        podman.run(["kube", "down", file]);
        restoreLimit();
      }
    },
    120_000,
  );

  describe("arm64, under qemu-user inside the container (no binfmt_misc needed)", () => {
    const qemu = Bun.which(QEMU);
    const withQemu = (args: string[]) =>
      podman.container([
        "--arch",
        "arm64",
        "-v",
        `${qemu}:/qemu:ro`,
        "--entrypoint",
        "/qemu",
        ...args,
      ]);

    rootTest("the index's arm64 image pulls by platform and runs vmaudit", () => {
      if (!qemu) throw new Error(`${QEMU} is missing: run 'bash scripts/test-deps.sh' as root`);
      expect(pulled.code).toBe(0);
      expect(arm64).toMatch(/^[0-9a-f]{64}$/);
      expect(arm64).not.toBe(amd64);
      const arch = podman.run(["image", "inspect", "--format", "{{.Architecture}}", arm64]);
      expect(arch.stdout.trim()).toBe("arm64");
      const r = withQemu([arm64, IMAGE_BINARY, "--version"]);
      expect(r.stdout).toBe(`vmaudit ${pkg.version} (commit ${buildCommit()})\n`);
    });

    rootTest("the arm64 layer holds exactly the binary and what its loader maps", () => {
      const loader = "/lib/ld-linux-aarch64.so.1";
      const r = withQemu([arm64, loader, "--list", IMAGE_BINARY]);
      expect(r.code).toBe(0);
      const listed = loaderList(r.stdout);
      expect(listed.missing).toEqual([]);
      expect(layerFiles("arm64")).toEqual([...listed.files, IMAGE_BINARY].sort());
    });

    rootTest(
      "scan in the arm64 container finds the host process's VMAs, exactly",
      () => {
        const h = holder as Holder;
        const caps = exporterCapabilities().flatMap((c) => ["--cap-add", c]);
        const r = withQemu([
          "--cap-drop=all",
          ...caps,
          "-v",
          "/proc:/host/proc:ro",
          arm64,
          IMAGE_BINARY,
          "scan",
          "--procfs",
          "/host/proc",
          "--json",
          "--top",
          "1000",
        ]);
        expect(r.code).toBe(0);
        const j = JSON.parse(r.stdout);
        expect(j.topProcesses.find((p: Json) => p.pid === h.pid)?.vmas).toBe(kernelCount(h.pid));
      },
      60_000,
    );
  });
});
