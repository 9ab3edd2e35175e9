import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Command, defineCommand } from "../../src/cli/command.ts";
import { renderCompletion, type Shell } from "../../src/cli/completions.ts";
import { flag } from "../../src/cli/options.ts";
import { SHELLS } from "../../src/commands/completions.ts";
import { COMMANDS } from "../../src/commands/index.ts";
import { runBinary } from "../helpers/env.ts";

const dir = mkdtempSync(join(tmpdir(), "vmaudit-completions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A folder to complete paths in: tree/subfolder/deeper/ and tree/file.txt. */
const tree = join(dir, "tree");
mkdirSync(join(tree, "subfolder", "deeper"), { recursive: true });
writeFileSync(join(tree, "file.txt"), "");
const FORMATS = ["json", "prometheus", "text"];

let tmuxRuns = 0;

/**
 * Run an interactive shell in a tmux pane, type `line` and press Tab
 * `tabs` times, and return the screen once `done` holds for it (or after 5 s).
 * Tests what a user sees, through the shell's real line editor.
 */
async function typeAndTab(
  shell: string[],
  setup: string,
  line: string,
  tabs: number,
  done: (screen: string) => boolean,
): Promise<string> {
  const socket = `vmaudit-completions-${process.pid}-${++tmuxRuns}`;
  const tmux = (...args: string[]) =>
    Bun.spawnSync(["tmux", "-L", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  const screen = () => tmux("capture-pane", "-p").stdout.toString();
  const waitFor = async (ok: (s: string) => boolean) => {
    for (let i = 0; i < 100 && !ok(screen()); i++) await Bun.sleep(50);
    return screen();
  };
  try {
    const env = [
      "env",
      "-i",
      "PATH=/usr/bin:/bin",
      "TERM=xterm",
      `HOME=${dir}`,
      "INPUTRC=/dev/null",
    ];
    const started = tmux(
      "new-session",
      "-d",
      "-x",
      "200",
      "-y",
      "20",
      [...env, ...shell].join(" "),
    );
    expect(started.stderr.toString()).toBe("");
    tmux("send-keys", "-l", `${setup}; PS1='READY> '`);
    tmux("send-keys", "Enter");
    await waitFor((s) => /^READY>\s*$/m.test(s));
    tmux("send-keys", "-l", line);
    for (let i = 0; i < tabs; i++) {
      // A Tab with several candidates may change nothing on screen (bash
      // only rings the bell), so give each one a moment instead.
      await Bun.sleep(150);
      tmux("send-keys", "Tab");
    }
    return await waitFor(done);
  } finally {
    tmux("kill-server");
  }
}

/** The line being edited: the last line that starts with the prompt. */
function promptLine(screen: string): string {
  return (
    screen
      .split("\n")
      .filter((l) => l.startsWith("READY> "))
      .at(-1) ?? ""
  );
}

/** A table with a hidden command, to check it is never offered. */
const HIDDEN: Command = defineCommand({
  name: "secret-worker",
  summary: "internal",
  hidden: true,
  options: { "secret-flag": flag("internal") },
  exitCodes: [],
  load: async () => ({ run: () => 0 }),
});
const TABLE = [...COMMANDS, HIDDEN];
const VISIBLE = COMMANDS.filter((c) => !c.hidden).map((c) => c.name);

function scriptFile(shell: Shell, commands: readonly Command[] = TABLE): string {
  const path = join(dir, `vmaudit.${shell}`);
  writeFileSync(path, renderCompletion(shell, commands));
  return path;
}

function run(cmd: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env } });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

function has(tool: string): boolean {
  return Bun.which(tool) !== null;
}

/** Source the bash script, complete `words` (the last one is being typed), return COMPREPLY. */
function bashComplete(words: string[]): string[] {
  const script = scriptFile("bash");
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const r = run([
    "bash",
    "-c",
    `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _vmaudit; printf '%s\\n' "\${COMPREPLY[@]}"`,
  ]);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  return r.out.split("\n").filter((l) => l !== "");
}

describe("bash completion", () => {
  test("bash -n accepts the script", () => {
    const r = run(["bash", "-n", scriptFile("bash")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
  test("the script registers _vmaudit for vmaudit", () => {
    const r = run(["bash", "-c", `source '${scriptFile("bash")}'; complete -p vmaudit`]);
    expect(r.out.trim()).toBe("complete -F _vmaudit vmaudit");
  });
  const cases: [string, string[], (reply: string[]) => void][] = [
    [
      "an empty word offers every visible command, help and the global flags",
      ["vmaudit", ""],
      (reply) => {
        for (const name of [...VISIBLE, "help", "--help", "--version"])
          expect(reply).toContain(name);
      },
    ],
    ["a prefix completes the command name", ["vmaudit", "sc"], (r) => expect(r).toEqual(["scan"])],
    [
      "'comp' completes to completions",
      ["vmaudit", "comp"],
      (r) => expect(r).toEqual(["completions"]),
    ],
    [
      "a hidden command is never offered",
      ["vmaudit", "se"],
      (r) => expect(r).not.toContain("secret-worker"),
    ],
    [
      "scan's flags come from its options",
      ["vmaudit", "scan", "--"],
      (r) => {
        for (const long of Object.keys(COMMANDS.find((c) => c.name === "scan")?.options ?? {}))
          expect(r).toContain(`--${long}`);
        expect(r).toContain("--help");
        expect(r).toContain("--no-color");
      },
    ],
    ["a flag prefix narrows", ["vmaudit", "scan", "--j"], (r) => expect(r).toEqual(["--json"])],
    [
      "after a flag that takes a number nothing is offered",
      ["vmaudit", "scan", "--top", ""],
      (r) => expect(r).toEqual([]),
    ],
    [
      "flags after a value still complete",
      ["vmaudit", "scan", "--top", "5", "--procf"],
      (r) => expect(r).toEqual(["--procfs"]),
    ],
    [
      "completions offers the shell names",
      ["vmaudit", "completions", ""],
      (r) => {
        for (const s of SHELLS) expect(r).toContain(s);
      },
    ],
    [
      "help offers the command names",
      ["vmaudit", "help", ""],
      (r) => expect(r.sort()).toEqual([...VISIBLE].sort()),
    ],
  ];
  for (const [name, words, check] of cases) {
    test(name, () => check(bashComplete(words)));
  }
  test("--procfs completes paths", () => {
    const reply = bashComplete(["vmaudit", "scan", "--procfs", `${dir}/vmaudit.b`]);
    expect(reply).toEqual([`${dir}/vmaudit.bash`]);
  });
  const more: [string, string[], (reply: string[]) => void][] = [
    [
      "--format offers the formats",
      ["vmaudit", "scan", "--format", ""],
      (r) => expect(r.sort()).toEqual(FORMATS),
    ],
    [
      "--format p completes to prometheus",
      ["vmaudit", "scan", "--format", "p"],
      (r) => expect(r).toEqual(["prometheus"]),
    ],
    [
      "a folder ends in / and a file does not",
      ["vmaudit", "scan", "--procfs", `${tree}/`],
      (r) => expect(r.sort()).toEqual([`${tree}/file.txt`, `${tree}/subfolder/`]),
    ],
    [
      "a folder prefix completes to the folder with /",
      ["vmaudit", "watch", "--save", `${tree}/sub`],
      (r) => expect(r).toEqual([`${tree}/subfolder/`]),
    ],
    [
      "inspect offers running pids, this test's among them",
      ["vmaudit", "inspect", ""],
      (r) => {
        expect(r).toContain(String(process.pid));
        expect(r).toContain("1");
        for (const pid of r) expect(pid).toMatch(/^[1-9][0-9]*$/);
      },
    ],
    [
      "inspect completes a pid prefix",
      ["vmaudit", "inspect", String(process.pid).slice(0, -1)],
      (r) => {
        expect(r).toContain(String(process.pid));
        for (const pid of r) expect(pid.startsWith(String(process.pid).slice(0, -1))).toBe(true);
      },
    ],
    [
      "inspect offers its flags after -",
      ["vmaudit", "inspect", "--j"],
      (r) => expect(r).toEqual(["--json"]),
    ],
  ];
  for (const [name, words, check] of more) {
    test(name, () => check(bashComplete(words)));
  }
  test("in an interactive bash, Tab after a folder adds / and no space, so a second Tab descends", async () => {
    const screen = await typeAndTab(
      ["bash", "--norc", "--noprofile"],
      `source '${scriptFile("bash")}'`,
      `vmaudit scan --procfs ${tree}/sub`,
      2,
      (s) => promptLine(s).endsWith("deeper/"),
    );
    expect(promptLine(screen)).toBe(`READY> vmaudit scan --procfs ${tree}/subfolder/deeper/`);
  }, 20_000);
  test("in an interactive bash, Tab Tab after --format lists the formats", async () => {
    const screen = await typeAndTab(
      ["bash", "--norc", "--noprofile"],
      `source '${scriptFile("bash")}'`,
      "vmaudit scan --format ",
      2,
      (s) => s.includes("prometheus"),
    );
    expect(screen).toMatch(/^json +prometheus +text *$/m);
  }, 20_000);
});

describe("zsh completion", () => {
  if (!has("zsh")) {
    console.log("NOTE: zsh is not installed; the zsh completion script is not checked");
    test.skip("zsh -n accepts the script [zsh not installed]", () => {});
    return;
  }
  test("zsh -n accepts the script", () => {
    const r = run(["zsh", "-n", scriptFile("zsh")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
  test("sourcing it after compinit registers _vmaudit", () => {
    const r = run([
      "zsh",
      "-f",
      "-c",
      `autoload -U compinit; compinit -u -D; source '${scriptFile("zsh")}'; print -r -- $_comps[vmaudit]`,
    ]);
    expect(r.out.trim()).toBe("_vmaudit");
  });
  /**
   * Call _vmaudit for `words` with zsh's completion helpers replaced by stubs
   * that print what they were given: the candidates _describe would offer
   * and the specs _arguments would use.
   */
  function zshOffers(words: string[]): string[] {
    const quoted = words.map((w) => `'${w}'`).join(" ");
    const r = run([
      "zsh",
      "-f",
      "-c",
      `compdef() { :; }; source '${scriptFile("zsh")}'
_describe() { print -rl -- "\${(@P)\${@[-1]}}" }
_arguments() { print -rl -- "$@" }
words=(${quoted}) CURRENT=${words.length} _vmaudit`,
    ]);
    expect(r.err).toBe("");
    return r.out.split("\n").filter((l) => l !== "");
  }
  test("offers every visible command, help and the global flags first", () => {
    const offers = zshOffers(["vmaudit", ""]);
    for (const name of [...VISIBLE, "help"]) {
      expect(offers.some((o) => o.startsWith(`${name}:`))).toBe(true);
    }
    expect(offers.some((o) => o.startsWith("secret"))).toBe(false);
    expect(offers).toContain("(- *)--version[Show the version]");
  });
  test("offers scan's options, with files after --procfs", () => {
    const offers = zshOffers(["vmaudit", "scan", "--"]);
    expect(offers.some((o) => o.startsWith("--json["))).toBe(true);
    expect(offers.some((o) => o.startsWith("--procfs[") && o.endsWith(":_files"))).toBe(true);
    expect(offers.some((o) => o.startsWith("--top[") && o.endsWith(":top: "))).toBe(true);
  });
  test("offers the shell names for completions", () => {
    expect(zshOffers(["vmaudit", "completions", ""])).toContain("1:shell:(bash zsh fish)");
  });
  test("offers the formats after --format", () => {
    expect(zshOffers(["vmaudit", "scan", "--"])).toContain(
      "--format[Output format\\: text, json or prometheus]:format:(text json prometheus)",
    );
  });
  test("offers running pids (zsh's _pids) for inspect", () => {
    expect(zshOffers(["vmaudit", "inspect", ""])).toContain("1:pid:_pids");
  });
  const zshSetup = `autoload -U compinit; compinit -u -D; source '${scriptFile("zsh")}'`;
  test("in an interactive zsh, Tab after --format lists the formats", async () => {
    const screen = await typeAndTab(["zsh", "-f"], zshSetup, "vmaudit scan --format ", 1, (s) =>
      s.includes("prometheus"),
    );
    expect(screen).toMatch(/^json +prometheus +text *$/m);
  }, 20_000);
  test("in an interactive zsh, Tab twice descends into folders", async () => {
    const screen = await typeAndTab(
      ["zsh", "-f"],
      zshSetup,
      `vmaudit scan --procfs ${tree}/sub`,
      2,
      (s) => promptLine(s).endsWith("deeper/"),
    );
    expect(promptLine(screen)).toBe(`READY> vmaudit scan --procfs ${tree}/subfolder/deeper/`);
  }, 20_000);
  test("lists every visible command and no hidden one", () => {
    const text = renderCompletion("zsh", TABLE);
    for (const name of VISIBLE) expect(text).toContain(`'${name}:`);
    expect(text).not.toContain("secret");
  });
});

describe("fish completion", () => {
  if (!has("fish")) {
    console.log("NOTE: fish is not installed; the fish completion script is not checked");
    test.skip("fish -n accepts the script [fish not installed]", () => {});
    return;
  }
  function fishComplete(line: string): string[] {
    const r = run(["fish", "-c", `source '${scriptFile("fish")}'; complete -C '${line}'`]);
    expect(r.err).toBe("");
    return r.out
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("\t")[0] ?? "");
  }
  test("fish -n accepts the script", () => {
    const r = run(["fish", "-n", scriptFile("fish")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
  });
  test("completes the command names and hides hidden ones", () => {
    expect(fishComplete("vmaudit ").sort()).toEqual([...VISIBLE, "help"].sort());
  });
  test("completes scan's flags", () => {
    expect(fishComplete("vmaudit scan --j")).toEqual(["--json"]);
  });
  test("completes the shell names for completions", () => {
    expect(fishComplete("vmaudit completions ").sort()).toEqual([...SHELLS].sort());
  });
  test("completes the formats after --format", () => {
    expect(fishComplete("vmaudit scan --format ").sort()).toEqual(FORMATS);
  });
  test("completes running pids for inspect", () => {
    const pids = fishComplete("vmaudit inspect ");
    expect(pids).toContain(String(process.pid));
    expect(pids).toContain("1");
  });
  test("completes a folder with / after --procfs", () => {
    expect(fishComplete(`vmaudit scan --procfs ${tree}/sub`)).toEqual([`${tree}/subfolder/`]);
  });
});

describe("vmaudit completions (compiled binary)", () => {
  for (const shell of SHELLS) {
    test(`'completions ${shell}' prints the script rendered from the command table`, () => {
      const r = runBinary(["completions", shell]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(renderCompletion(shell, COMMANDS));
    });
  }
  test("an unknown shell exits 2 with one line naming the shells", () => {
    const r = runBinary(["completions", "tcsh"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('Unknown shell "tcsh": expected one of bash, zsh, fish');
  });
  test("a missing shell exits 2", () => {
    expect(runBinary(["completions"]).code).toBe(2);
  });
});
