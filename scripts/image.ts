/**
 * Build the vmaudit container image (`npm run image`): an OCI image archive,
 * from scratch, with Debian's umoci. No Docker, no base image.
 *
 *   bun scripts/image.ts                # dist/release/vmaudit-oci-image.tar + its SHA256SUMS line
 *   bun scripts/image.ts --outdir DIR   # the same, into DIR
 *
 * Each image holds the glibc binary for its architecture and exactly the
 * shared libraries and loader it needs: the ELF interpreter (PT_INTERP) and
 * every DT_NEEDED library, followed through each library's own DT_NEEDED,
 * copied from the build machine (x86-64: Debian's libc6; arm64: Debian's
 * libc6-arm64-cross in /usr/aarch64-linux-gnu). Nothing else: no shell, no
 * /etc. test/e2e/image.test.ts checks with the image's own loader (`ld.so
 * --list`) that nothing is missing.
 *
 * The archive is one OCI layout with one image index that lists the amd64
 * and the arm64 image (podman picks the one for its machine).
 *
 * Reproducible: the same commit gives the same bytes. Every time stamp is
 * SOURCE_DATE_EPOCH, or else the commit's time; tar entries are sorted, owned
 * by 0:0 with fixed modes and no atime/ctime; umoci writes no history; the
 * build's temp paths, the host name and the builder's uid appear nowhere.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { EXPORTER_PORT } from "../src/commands/exporter.ts";
import { writeFileAtomic } from "../src/fs/atomic_write.ts";
import { buildCommit, compile, IMAGE_ARTIFACT, sha256sumsLine } from "./build.ts";

const REPO = join(import.meta.dir, "..");

/**
 * The image's default command (after the `vmaudit` entry point): the
 * exporter, on every address of the pod, over the host's /proc mounted at
 * /host/proc, on the exporter's port (EXPORTER_PORT, written once in
 * src/commands/exporter.ts). The DaemonSet's exporter runs exactly this
 * (test/e2e/deploy.test.ts).
 */
export const DEFAULT_COMMAND: readonly string[] = [
  "exporter",
  "--listen",
  `0.0.0.0:${EXPORTER_PORT}`,
  "--procfs",
  "/host/proc",
];

/**
 * The name in the archive's index.json (`org.opencontainers.image.ref.name`):
 * `podman load` names the image `localhost/vmaudit:VERSION` after it.
 */
export const IMAGE_REF_NAME = `vmaudit:${pkg.version}`;

/** Where the binary lives in the image (also on PATH). */
export const IMAGE_BINARY = "/usr/local/bin/vmaudit";

/** One architecture of the image. */
export interface ImagePlatform {
  /** OCI/Go architecture name. */
  arch: "amd64" | "arm64";
  variant?: string;
  target: Bun.Build.CompileTarget;
  /** Debian multiarch triplet: the loader searches /lib/<triplet> first. */
  triplet: string;
  /** Where the build machine has this architecture's glibc. */
  libSource: string;
}

export const IMAGE_PLATFORMS: readonly ImagePlatform[] = [
  {
    arch: "amd64",
    target: "bun-linux-x64",
    triplet: "x86_64-linux-gnu",
    libSource: "/lib/x86_64-linux-gnu",
  },
  {
    arch: "arm64",
    variant: "v8",
    target: "bun-linux-arm64",
    triplet: "aarch64-linux-gnu",
    libSource: "/usr/aarch64-linux-gnu/lib",
  },
];

function run(cmd: string[], opts: { cwd?: string } = {}): string {
  const p = Bun.spawnSync(cmd, { cwd: opts.cwd, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) {
    throw new Error(`${cmd.join(" ")} failed (exit ${p.exitCode}):\n${p.stderr.toString()}`);
  }
  return p.stdout.toString();
}

/** The ELF interpreter (PT_INTERP) of a file, or null for a static one or a library. */
export function elfInterpreter(path: string): string | null {
  const out = run(["readelf", "-l", "-W", path]);
  return /Requesting program interpreter: ([^\]]+)\]/.exec(out)?.[1] ?? null;
}

/** The DT_NEEDED entries of an ELF file, in order. */
export function elfNeeded(path: string): string[] {
  const out = run(["readelf", "-d", "-W", path]);
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1] ?? "");
}

/** What the image must hold besides the binary: the loader and the libraries. */
export interface RuntimeFiles {
  /** The loader: its path in the image (PT_INTERP) and the file to copy. */
  interpreter: { path: string; source: string };
  /** Each library by soname, with the file to copy. Sorted by soname. */
  libraries: { soname: string; source: string }[];
}

/**
 * Follow DT_NEEDED from `binary` through every library it pulls in, looking
 * each soname up in `libSource`. The loader's own soname is not copied again
 * as a library: the loader already in memory satisfies it.
 *
 * @example
 * runtimeFiles("dist/vmaudit", "/lib/x86_64-linux-gnu").libraries.map((l) => l.soname);
 * // ["libc.so.6", "libdl.so.2", "libm.so.6", "libpthread.so.0"]
 */
export function runtimeFiles(binary: string, libSource: string): RuntimeFiles {
  const interp = elfInterpreter(binary);
  if (!interp) throw new Error(`${binary} has no ELF interpreter: expected a dynamic glibc binary`);
  const loaderName = basename(interp);
  const find = (soname: string): string => {
    const path = join(libSource, soname);
    if (!existsSync(path)) {
      throw new Error(`Cannot find "${soname}" in ${libSource}: install this architecture's libc6`);
    }
    return realpathSync(path);
  };
  const found = new Map<string, string>();
  const queue = [...elfNeeded(binary)];
  while (queue.length > 0) {
    const soname = queue.shift() as string;
    if (soname === loaderName || found.has(soname)) continue;
    const source = find(soname);
    found.set(soname, source);
    queue.push(...elfNeeded(source));
  }
  return {
    interpreter: { path: interp, source: find(loaderName) },
    libraries: [...found.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([soname, source]) => ({ soname, source })),
  };
}

/** The time every entry gets: SOURCE_DATE_EPOCH, else the HEAD commit's time. */
export function sourceDateEpoch(env: Record<string, string | undefined> = process.env): number {
  const set = env.SOURCE_DATE_EPOCH;
  if (set !== undefined && set !== "") {
    if (!/^[0-9]+$/.test(set)) {
      throw new Error(`Cannot use SOURCE_DATE_EPOCH "${set}": expected seconds since 1970`);
    }
    return Number(set);
  }
  const p = Bun.spawnSync(["git", "log", "-1", "--format=%ct", "HEAD"], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = p.stdout.toString().trim();
  if (p.exitCode !== 0 || !/^[0-9]+$/.test(out)) {
    throw new Error("Cannot tell the commit time: set SOURCE_DATE_EPOCH (no git checkout here)");
  }
  return Number(out);
}

/** Every path under `dir` (itself included), to give each the same mode rules and mtime. */
function walk(dir: string): string[] {
  const out = [dir];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Fixed modes (0755 for folders and files in `exec`, else 0644) and one mtime everywhere. */
function normalise(dir: string, epoch: number, exec: (path: string) => boolean): void {
  // Children first, so setting a folder's mtime is the last change inside it.
  for (const p of walk(dir).reverse()) {
    const isDir = statSync(p).isDirectory();
    chmodSync(p, isDir || exec(p) ? 0o755 : 0o644);
    utimesSync(p, epoch, epoch);
  }
}

/**
 * A tar of `names` in `dir`, the same bytes for the same files: sorted,
 * numeric owner 0:0, one mtime, and PAX headers without atime/ctime at a
 * fixed name (the reproducible-builds.org recipe for GNU tar).
 */
function reproducibleTar(dir: string, names: string[], out: string, epoch: number): void {
  run([
    "tar",
    "--create",
    "--file",
    out,
    "--directory",
    dir,
    "--sort=name",
    `--mtime=@${epoch}`,
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--format=posix",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    "--",
    ...names,
  ]);
}

function umoci(args: string[]): string {
  return run(["umoci", ...args]);
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Write a JSON blob into the layout; returns its descriptor's digest and size. */
function writeBlob(layout: string, text: string): { digest: string; size: number } {
  const hex = sha256(text);
  writeFileSync(join(layout, "blobs", "sha256", hex), text);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(text) };
}

interface IndexJson {
  manifests: {
    mediaType: string;
    digest: string;
    size: number;
    annotations?: Record<string, string>;
  }[];
}

/** Build one architecture's image into the layout, tagged `tag`. */
async function buildPlatform(
  layout: string,
  work: string,
  p: ImagePlatform,
  tag: string,
  commit: string,
  epoch: number,
): Promise<void> {
  const dir = join(work, p.arch);
  const binary = join(dir, "bin", "vmaudit");
  // Bun embeds the output's file name, so it is always "vmaudit" (as in
  // scripts/build.ts): this binary is byte for byte the release artifact.
  await compile(binary, commit, p.target);
  const files = runtimeFiles(binary, p.libSource);

  const rootfs = join(dir, "rootfs");
  const put = (path: string, source: string) => {
    const to = join(rootfs, path);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(source, to);
  };
  put(IMAGE_BINARY, binary);
  put(files.interpreter.path, files.interpreter.source);
  for (const lib of files.libraries) put(`/lib/${p.triplet}/${lib.soname}`, lib.source);
  // Every file in this image is a program or a shared object: all 0755, as
  // Debian installs them.
  normalise(rootfs, epoch, () => true);

  const layer = join(dir, "layer.tar");
  reproducibleTar(rootfs, readdirSync(rootfs).sort(), layer, epoch);

  const created = new Date(epoch * 1000).toISOString().replace(".000Z", "Z");
  const image = `${layout}:${tag}`;
  umoci(["new", "--image", image]);
  umoci(["raw", "add-layer", "--no-history", "--image", image, layer]);
  const config = [
    "config",
    "--no-history",
    "--image",
    image,
    "--created",
    created,
    "--os",
    "linux",
    "--architecture",
    p.arch,
    "--config.entrypoint",
    IMAGE_BINARY,
    ...DEFAULT_COMMAND.flatMap((a) => ["--config.cmd", a]),
    "--config.env",
    "PATH=/usr/local/bin",
    "--config.exposedports",
    `${EXPORTER_PORT}/tcp`,
    "--config.label",
    `org.opencontainers.image.version=${pkg.version}`,
    "--config.label",
    `org.opencontainers.image.revision=${commit}`,
    "--config.label",
    "org.opencontainers.image.title=vmaudit",
    "--config.label",
    `org.opencontainers.image.licenses=${pkg.license}`,
  ];
  umoci(config);
  console.log(
    `${p.arch}: ${IMAGE_BINARY}, ${files.interpreter.path}, ${files.libraries
      .map((l) => `/lib/${p.triplet}/${l.soname}`)
      .join(", ")}`,
  );
}

/**
 * Replace the per-architecture tags in index.json by one image index that
 * lists both images with their platform, named {@link IMAGE_REF_NAME}.
 */
function writeImageIndex(layout: string, tags: Map<string, ImagePlatform>): void {
  const indexPath = join(layout, "index.json");
  const top = JSON.parse(readFileSync(indexPath, "utf8")) as IndexJson;
  const manifests = [...tags.entries()].map(([tag, p]) => {
    const m = top.manifests.find(
      (d) => d.annotations?.["org.opencontainers.image.ref.name"] === tag,
    );
    if (!m) throw new Error(`umoci left no manifest tagged ${tag} in ${indexPath}`);
    return {
      mediaType: m.mediaType,
      digest: m.digest,
      size: m.size,
      platform: { architecture: p.arch, os: "linux", ...(p.variant ? { variant: p.variant } : {}) },
    };
  });
  const index = writeBlob(
    layout,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests,
    }),
  );
  writeFileSync(
    indexPath,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.index.v1+json",
          ...index,
          annotations: { "org.opencontainers.image.ref.name": IMAGE_REF_NAME },
        },
      ],
    }),
  );
}

/** SHA256SUMS with the line for `name` added or replaced (other lines kept, in order). */
export function withSumLine(sums: string, name: string, hex: string): string {
  const kept = sums
    .split("\n")
    .filter((l) => l !== "" && !l.endsWith(`  ${name}`) && !l.endsWith(` *${name}`));
  return kept.map((l) => `${l}\n`).join("") + sha256sumsLine(name, hex);
}

/**
 * Build the image archive into `outdir` and add its line to
 * `outdir/SHA256SUMS`. Returns the archive's path and sha256.
 */
export async function buildImage(outdir: string): Promise<{ path: string; sha256: string }> {
  for (const tool of ["umoci", "tar", "readelf"]) {
    if (!Bun.which(tool))
      throw new Error(`${tool} is missing: run 'bash scripts/test-deps.sh' as root`);
  }
  const commit = buildCommit();
  const epoch = sourceDateEpoch();
  const work = mkdtempSync(join(tmpdir(), "vmaudit-image-"));
  try {
    const layout = join(work, "oci");
    umoci(["init", "--layout", layout]);
    const tags = new Map<string, ImagePlatform>();
    for (const p of IMAGE_PLATFORMS) {
      const tag = `${pkg.version}-${p.arch}`;
      await buildPlatform(layout, work, p, tag, commit, epoch);
      tags.set(tag, p);
    }
    writeImageIndex(layout, tags);
    umoci(["gc", "--layout", layout]);
    normalise(layout, epoch, () => false);
    const archive = join(work, IMAGE_ARTIFACT);
    reproducibleTar(layout, ["blobs", "index.json", "oci-layout"], archive, epoch);

    mkdirSync(outdir, { recursive: true });
    const out = join(outdir, IMAGE_ARTIFACT);
    const tmp = join(outdir, `.${IMAGE_ARTIFACT}.${process.pid}`);
    copyFileSync(archive, tmp);
    chmodSync(tmp, 0o644);
    renameSync(tmp, out);
    const hex = sha256(readFileSync(out));
    const sumsPath = join(outdir, "SHA256SUMS");
    const sums = existsSync(sumsPath) ? readFileSync(sumsPath, "utf8") : "";
    writeFileAtomic(sumsPath, withSumLine(sums, IMAGE_ARTIFACT, hex));
    return { path: out, sha256: hex };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const o = args.indexOf("--outdir");
  const outdir =
    o >= 0 && args[o + 1] ? resolve(args[o + 1] as string) : join(REPO, "dist", "release");
  const started = performance.now();
  const { path, sha256: hex } = await buildImage(outdir);
  const mib = (statSync(path).size / 2 ** 20).toFixed(1);
  console.log(
    `${path}  ${mib} MiB  ${hex.slice(0, 16)}…  ${Math.round(performance.now() - started)} ms`,
  );
  console.log(`${outdir}/SHA256SUMS updated`);
}
