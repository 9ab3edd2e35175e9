/**
 * Hide the invoking user's name in command lines, so a report can be shared.
 * Pure.
 */

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** How a report treats the invoking user's name (`anonymisation` in JSON). */
export type Anonymisation =
  /** Replaced by `<user>`. */
  | "user"
  /** The invoking user is root: root's name and /root are left as they are. */
  | "root"
  /** The name is not known (not in /etc/passwd), so nothing was hidden. */
  | "none";

/**
 * What an anonymiser made from `user` does.
 *
 * @example
 * anonymisationOf("ann"); // "user"
 */
export function anonymisationOf(user: string | undefined): Anonymisation {
  return user === undefined || user === "" ? "none" : user === "root" ? "root" : "user";
}

/**
 * A function that replaces `user` with `<user>` where it stands as a whole
 * argument or a whole path component (between slashes), and nowhere else: not
 * inside a longer word (`channel` for user `ann`), not in `ann.txt`. The name
 * `root` is never replaced: root's processes keep USER root, and /root stays
 * /root.
 *
 * @example
 * anonymiser("ann")("/home/ann/channel.txt"); // "/home/<user>/channel.txt"
 * anonymiser("ann")("ann"); // "<user>"
 * anonymiser("ann")("--user=ann"); // "--user=ann"
 */
export function anonymiser(user: string | undefined): (text: string) => string {
  if (anonymisationOf(user) !== "user") return (text) => text;
  const name = user as string;
  const pattern = new RegExp(`(?<=^|/)${escapeRegExp(name)}(?=$|/)`, "g");
  return (text) => (text.includes(name) ? text.replace(pattern, "<user>") : text);
}
