/**
 * Hide the invoking user's name in command lines, so a report can be shared.
 */

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A function that replaces `user` with `<user>` wherever it stands as a whole
 * name (not inside a longer word such as `channel` for user `ann`).
 *
 * @example
 * anonymiser("ann")("/home/ann/channel.txt"); // "/home/<user>/channel.txt"
 */
export function anonymiser(user: string | undefined): (text: string) => string {
  if (!user) return (text) => text;
  const pattern = new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(user)}(?![A-Za-z0-9_-])`, "g");
  return (text) => text.replace(pattern, "<user>");
}
