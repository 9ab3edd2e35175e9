/**
 * Hide the invoking user's name in command lines, so a report can be shared.
 * Pure.
 */

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** How a report treats the invoking user's name (`anonymisation` in JSON). */
export type Anonymization =
  /** Replaced by `<user>`. */
  | "user"
  /** The invoking user is root: root's name and /root are left as they are. */
  | "root"
  /** The name is not known (not in /etc/passwd), so nothing was hidden. */
  | "none";

/**
 * What an anonymizer made from `user` does.
 *
 * @example
 * anonymizationOf("ann"); // "user"
 */
export function anonymizationOf(user: string | undefined): Anonymization {
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
 * anonymizer("ann")("/home/ann/channel.txt"); // "/home/<user>/channel.txt"
 * anonymizer("ann")("ann"); // "<user>"
 * anonymizer("ann")("--user=ann"); // "--user=ann"
 */
export function anonymizer(user: string | undefined): (text: string) => string {
  if (anonymizationOf(user) !== "user") return (text) => text;
  const name = user as string;
  const pattern = new RegExp(`(?<=^|/)${escapeRegExp(name)}(?=$|/)`, "g");
  return (text) => (text.includes(name) ? text.replace(pattern, "<user>") : text);
}
