/**
 * uid to user name, from /etc/passwd (no NSS: the binary has no libc
 * bindings for getpwuid, and passwd covers the local accounts that matter).
 */
import { readFileSync } from "node:fs";

/**
 * Parse passwd text into a uid to name map.
 *
 * @example
 * parsePasswd("root:x:0:0:root:/root:/bin/sh\n").get(0); // "root"
 */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split("\n")) {
    const [name, , uid] = line.split(":");
    if (name && uid && /^[0-9]+$/.test(uid) && !users.has(Number(uid)))
      users.set(Number(uid), name);
  }
  return users;
}

/** The local accounts file, read for uid to name. */
export const PASSWD_FILE = "/etc/passwd";

/** Load /etc/passwd; an empty map when it cannot be read. */
export function loadUsers(path = PASSWD_FILE): Map<number, string> {
  try {
    return parsePasswd(readFileSync(path, "utf8"));
  } catch {
    return new Map();
  }
}

/**
 * The name of the user who ran vmaudit, to hide in reports: the real uid
 * (SUDO_UID under sudo, else getuid()) looked up in /etc/passwd. Never from
 * $USER, which cron, systemd and `env -i` leave unset (Bun's os.userInfo()
 * then says "unknown") and which anyone can set. Undefined when the uid has
 * no name there: then nothing is hidden, and the report says so.
 *
 * @example
 * invokingUser({ SUDO_UID: "1000" }); // "ann", when /etc/passwd says uid 1000 is ann
 */
export function invokingUser(
  env: Record<string, string | undefined>,
  opts: { uid?: number; passwd?: string } = {},
): string | undefined {
  const sudo = env.SUDO_UID;
  const uid =
    sudo !== undefined && /^[0-9]{1,10}$/.test(sudo)
      ? Number(sudo)
      : (opts.uid ?? process.getuid?.());
  if (uid === undefined) return undefined;
  return loadUsers(opts.passwd).get(uid);
}
