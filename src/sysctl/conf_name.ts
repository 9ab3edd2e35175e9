/**
 * The name of vmaudit's own file in /etc/sysctl.d, and the check of a
 * `--file` name. Pure: the command table reads it at start-up.
 */
import { UsageError } from "../errors.ts";

/** The directory vmaudit writes to: /etc wins over /run and /usr for a file of the same name. */
export const CONF_DIR = "/etc/sysctl.d";
export const DEFAULT_CONF_NAME = "90-vm_max_map_count.conf";

/**
 * Check a `--file` name: a plain `*.conf` name, since both tools read only
 * `*.conf` files and skip hidden ones.
 *
 * @example
 * validateConfName("95-games.conf"); // "95-games.conf"
 * validateConfName("../x.conf"); // throws UsageError
 */
export function validateConfName(name: string, command = "apply"): string {
  if (!/^[A-Za-z0-9_@+-][A-Za-z0-9._@+~-]*\.conf$/.test(name)) {
    throw new UsageError(
      `Cannot use --file "${name}": expected a file name in ${CONF_DIR} ending in .conf, such as ${DEFAULT_CONF_NAME}`,
      command,
    );
  }
  return name;
}
