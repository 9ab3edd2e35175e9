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

/** Load /etc/passwd; an empty map when it cannot be read. */
export function loadUsers(path = "/etc/passwd"): Map<number, string> {
  try {
    return parsePasswd(readFileSync(path, "utf8"));
  } catch {
    return new Map();
  }
}
