import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Anonymization, anonymizationOf, anonymizer } from "../../src/core/anonymize.ts";
import { invokingUser } from "../../src/proc/users.ts";

describe("anonymizer() replaces a whole argument or a whole path component only", () => {
  const cases: [string, string, string, string][] = [
    ["a home directory", "ann", "/home/ann/channel.txt", "/home/<user>/channel.txt"],
    ["the whole argument", "ann", "ann", "<user>"],
    ["the last component", "ann", "/home/ann", "/home/<user>"],
    ["every occurrence", "ann", "/home/ann/x/ann", "/home/<user>/x/<user>"],
    [
      "a flag's path value",
      "ann",
      "--user-data-dir=/home/ann/.config",
      "--user-data-dir=/home/<user>/.config",
    ],
    ["not inside a word", "ann", "channel", "channel"],
    ["not a prefix of a component", "ann", "/home/anne/x", "/home/anne/x"],
    ["not a file name with an extension", "ann", "/tmp/ann.txt", "/tmp/ann.txt"],
    ["not after =", "ann", "--user=ann", "--user=ann"],
    ["not after @", "ann", "ann@host", "ann@host"],
    [
      "a name with regex characters",
      "a.b",
      "/home/a.b/x and /home/axb/x",
      "/home/<user>/x and /home/axb/x",
    ],
    ["root is never replaced", "root", "/root/x", "/root/x"],
    ["root as an argument stays", "root", "root", "root"],
    ["no name: nothing changes", "", "/home/ann", "/home/ann"],
  ];
  for (const [name, user, input, want] of cases)
    test(`anonymizer() ${name}`, () => expect(anonymizer(user)(input)).toBe(want));
});

describe("anonymizationOf()", () => {
  const cases: [string | undefined, Anonymization][] = [
    ["ann", "user"],
    ["root", "root"],
    [undefined, "none"],
    ["", "none"],
  ];
  for (const [user, want] of cases)
    test(`anonymizationOf(${JSON.stringify(user)}) is ${want}`, () =>
      expect(anonymizationOf(user)).toBe(want));
});

describe("invokingUser() reads the real uid through passwd, never $USER", () => {
  const passwd = join(tmpdir(), `vmaudit-passwd-${process.pid}`);
  writeFileSync(
    passwd,
    "root:x:0:0:root:/root:/bin/sh\nann:x:1000:1000::/home/ann:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\n",
  );
  const cases: [string, Record<string, string>, number, string | undefined][] = [
    ["SUDO_UID under sudo", { SUDO_UID: "1000", SUDO_USER: "mallory", USER: "root" }, 0, "ann"],
    ["getuid() without sudo", { USER: "mallory", LOGNAME: "mallory" }, 1001, "bob"],
    ["root without sudo", {}, 0, "root"],
    ["a uid with no name", { SUDO_UID: "4242" }, 0, undefined],
    ["a SUDO_UID that is not a number falls back to getuid()", { SUDO_UID: "ann" }, 1001, "bob"],
    ["an empty environment (cron, systemd, env -i)", {}, 1000, "ann"],
  ];
  for (const [name, env, uid, want] of cases)
    test(`invokingUser() ${name}`, () => expect(invokingUser(env, { uid, passwd })).toBe(want));
});
