/**
 * Run Debian's ansible-playbook on the repository's playbooks and read its
 * default (human) output: the PLAY RECAP, each host's status per task, and
 * the messages of failed tasks. Also snapshots of folders, to prove that a
 * run changed nothing.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, REPO } from "./env.ts";

export const ANSIBLE_DIR = join(REPO, "deploy", "ansible");

export interface PlaybookRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Per host, the counters of the PLAY RECAP. */
export interface RecapLine {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
  /** The line as printed, for reports. */
  line: string;
}

let home: string | undefined;
/** A private folder for Ansible's config and temp files, made once. */
function ansibleHome(): string {
  if (home === undefined) {
    home = mkdtempSync(join(tmpdir(), "vmaudit-ansible-home-"));
    // An empty config: whatever /etc/ansible/ansible.cfg says (callbacks,
    // colours, become) does not change what the tests read.
    writeFileSync(join(home, "ansible.cfg"), "[defaults]\n");
  }
  return home;
}

/** Remove Ansible's private folder (config, inventories, temp files). */
export function removeAnsibleHome(): void {
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
  home = undefined;
}

/**
 * Run `ansible-playbook -i INVENTORY PLAYBOOK ARGS` with no network (a new,
 * empty network namespace: `unshare --net`), after `prefix` (such as a mount
 * namespace). The inventory is written as JSON, which is YAML.
 */
export function runPlaybook(
  inventory: unknown,
  args: string[] = [],
  opts: { playbook?: string; prefix?: string[] } = {},
): PlaybookRun {
  const h = ansibleHome();
  const dir = mkdtempSync(join(h, "run-"));
  const inv = join(dir, "inventory.json");
  writeFileSync(inv, JSON.stringify(inventory, null, 2));
  const playbook = opts.playbook ?? join(ANSIBLE_DIR, "vmaudit.yml");
  const started = performance.now();
  const p = Bun.spawnSync(
    ["unshare", "--net", ...(opts.prefix ?? []), "ansible-playbook", "-i", inv, playbook, ...args],
    {
      cwd: dir,
      env: {
        ...process.env,
        ANSIBLE_CONFIG: join(h, "ansible.cfg"),
        ANSIBLE_LOCAL_TEMP: join(h, "local-tmp"),
        ANSIBLE_REMOTE_TEMP: join(h, "remote-tmp"),
        ANSIBLE_NOCOLOR: "1",
        ANSIBLE_STDOUT_CALLBACK: "default",
        ANSIBLE_RETRY_FILES_ENABLED: "0",
        NO_COLOR: "1",
      },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  return {
    code: p.exitCode ?? -1,
    stdout: p.stdout.toString(),
    stderr: p.stderr.toString(),
    ms: performance.now() - started,
  };
}

/**
 * The PLAY RECAP, by host.
 *
 * @example
 * parseRecap(run.stdout).get("alpha")?.changed; // 0 on a second run
 */
export function parseRecap(stdout: string): Map<string, RecapLine> {
  const at = stdout.lastIndexOf("PLAY RECAP ");
  if (at < 0) throw new Error(`No PLAY RECAP in the output:\n${stdout}`);
  const recap = new Map<string, RecapLine>();
  for (const line of stdout.slice(at).split("\n").slice(1)) {
    const m = /^(\S+)\s+:\s+(.*?)\s*$/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const counts: Record<string, number> = {};
    for (const kv of m[2].split(/\s+/)) {
      const [k, v] = kv.split("=");
      if (k && v !== undefined) counts[k] = Number(v);
    }
    recap.set(m[1], {
      ok: counts.ok ?? Number.NaN,
      changed: counts.changed ?? Number.NaN,
      unreachable: counts.unreachable ?? Number.NaN,
      failed: counts.failed ?? Number.NaN,
      skipped: counts.skipped ?? Number.NaN,
      rescued: counts.rescued ?? Number.NaN,
      ignored: counts.ignored ?? Number.NaN,
      line: line.trimEnd(),
    });
  }
  return recap;
}

/** The output of one task (from its `TASK [...]` header to the next header). */
function taskSection(stdout: string, task: string): string {
  const header = `TASK [${task}]`;
  const at = stdout.indexOf(header);
  if (at < 0) throw new Error(`No task "${task}" in the output:\n${stdout}`);
  const rest = stdout.slice(at + header.length);
  const next = rest.search(/\n(TASK \[|PLAY RECAP|PLAY \[)/);
  return next < 0 ? rest : rest.slice(0, next);
}

/**
 * Each host's status in one task: `ok`, `changed`, `skipping` or `fatal`.
 *
 * @example
 * taskStatus(run.stdout, "vmaudit : Run vmaudit apply").get("bravo"); // "ok"
 */
export function taskStatus(stdout: string, task: string): Map<string, string> {
  const status = new Map<string, string>();
  for (const m of taskSection(stdout, task).matchAll(
    /^(ok|changed|skipping|fatal): \[([^\]\s]+)(?: -> [^\]]+)?\]/gm,
  )) {
    if (m[1] && m[2]) status.set(m[2], m[1]);
  }
  return status;
}

/** The `msg` of a host's failed task (the JSON after `fatal: [host]: FAILED! =>`). */
export function fatalMessage(stdout: string, host: string): string | undefined {
  const m = new RegExp(`^fatal: \\[${host}(?: -> [^\\]]+)?\\]: FAILED! => (.*)$`, "m").exec(stdout);
  return m?.[1] ? (JSON.parse(m[1]).msg as string) : undefined;
}

/** The `msg` list a debug task printed for a host. */
export function debugMessage(stdout: string, task: string, host: string): string[] | undefined {
  const section = taskSection(stdout, task);
  const at = section.indexOf(`ok: [${host}] => {`);
  if (at < 0) return undefined;
  const start = section.indexOf("{", at);
  const end = section.indexOf("\n}", start);
  return JSON.parse(section.slice(start, end + 2)).msg as string[];
}

/** The sha256 of a file, as `vmaudit_sha256` wants it. */
export function fileSha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * The binary the role installs: a copy of dist/vmaudit (built first when
 * missing) in `work`, so another test rebuilding dist/vmaudit cannot change
 * it mid-run, with its sha256.
 */
export function stageBinary(work: string): { src: string; sha256: string } {
  if (!existsSync(BINARY)) {
    const b = Bun.spawnSync([process.execPath, "scripts/build.ts"], { cwd: REPO, stderr: "pipe" });
    if (b.exitCode !== 0) throw new Error(`npm run build failed: ${b.stderr.toString()}`);
  }
  const src = join(work, "vmaudit-src");
  copyFileSync(BINARY, src);
  return { src, sha256: fileSha256(src) };
}
