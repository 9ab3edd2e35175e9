/**
 * The address a server listens on, `ADDRESS:PORT`, as `--listen` takes it.
 * Pure: no name lookup. The address must be an IP literal (IPv4 dotted quad,
 * or IPv6 in brackets as in URLs: `[::1]:10065`), because a host name can
 * resolve to more or other interfaces than the one meant, and these
 * metrics name the processes of the machine.
 */

export interface ListenAddress {
  /** The address as the socket takes it: `127.0.0.1`, `::1` (no brackets). */
  host: string;
  port: number;
  /** `host:port` as written back in messages and URLs: `127.0.0.1:10065`, `[::1]:10065`. */
  text: string;
  family: "IPv4" | "IPv6";
}

/** What the value should look like, for error messages. */
export const LISTEN_EXPECTED =
  "ADDRESS:PORT with an IP address and a port from 1 to 65535, such as 127.0.0.1:10065, 0.0.0.0:10065 or [::1]:10065";

const IPV4 =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/**
 * Whether `text` is an IPv4 address in dotted-quad form (no leading zeros,
 * which some parsers read as octal).
 *
 * @example
 * isIPv4("127.0.0.1"); // true
 * isIPv4("127.1"); // false
 */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/**
 * Whether `text` is an IPv6 address (RFC 4291 text forms: eight groups,
 * one `::`, an IPv4 tail). No zone index (`%eth0`).
 *
 * @example
 * isIPv6("::1"); // true
 * isIPv6("::ffff:10.0.0.1"); // true
 * isIPv6("1::2::3"); // false
 */
export function isIPv6(text: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  let groups = 8;
  let body = text;
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".")) {
    // An IPv4 tail takes the place of the last two groups.
    if (!isIPv4(body.slice(lastColon + 1))) return false;
    body = `${body.slice(0, lastColon + 1)}0`;
    groups = 7;
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const hextets = (half: string) => (half === "" ? [] : half.split(":"));
  const parts = halves.flatMap(hextets);
  if (!parts.every((p) => /^[0-9A-Fa-f]{1,4}$/.test(p))) return false;
  return halves.length === 2 ? parts.length < groups : parts.length === groups;
}

/**
 * Parse `ADDRESS:PORT`. Returns the address, or a reason why not (the
 * caller makes the usage error).
 *
 * @example
 * parseListenAddress("0.0.0.0:10065"); // { host: "0.0.0.0", port: 10065, text: "0.0.0.0:10065", family: "IPv4" }
 * parseListenAddress("[::1]:10065").host; // "::1"
 * parseListenAddress("127.0.0.1"); // "no port"
 */
export function parseListenAddress(raw: string): ListenAddress | string {
  let host: string;
  let portText: string;
  let family: ListenAddress["family"];
  if (raw.startsWith("[")) {
    const close = raw.indexOf("]");
    if (close < 0) return "no closing bracket";
    host = raw.slice(1, close);
    if (!isIPv6(host)) return `"${host}" is not an IPv6 address`;
    if (raw[close + 1] !== ":") return "no port";
    portText = raw.slice(close + 2);
    family = "IPv6";
  } else {
    const colon = raw.lastIndexOf(":");
    if (colon < 0) return "no port";
    host = raw.slice(0, colon);
    portText = raw.slice(colon + 1);
    if (host.includes(":")) return "an IPv6 address goes in brackets";
    if (host === "") return "no address";
    if (!isIPv4(host)) return `"${host}" is not an IP address`;
    family = "IPv4";
  }
  if (portText === "") return "no port";
  if (!/^[0-9]{1,5}$/.test(portText)) return `port "${portText}" is not a number`;
  const port = Number(portText);
  if (port < 1 || port > 65535) return `port ${port} is outside 1 to 65535`;
  return { host, port, text: family === "IPv6" ? `[${host}]:${port}` : `${host}:${port}`, family };
}
