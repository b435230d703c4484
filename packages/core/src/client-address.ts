/**
 * Whom a request is counted against when it carries no account (pull limits, login throttling): the client's
 * address as Cloudflare's edge reports it in `CF-Connecting-IP`. `X-Forwarded-For` and similar headers, which any
 * client can write, are never read.
 */

/**
 * The client's address from `CF-Connecting-IP`: IPv4 whole (also when written IPv4-mapped, `::ffff:1.2.3.4`),
 * IPv6 by its /64 (one subscriber's network, as Docker Hub counts: `2001:db8:a:b::/64`), and `"unknown"` for an
 * absent or malformed header. Never throws.
 */
export function clientAddress(request: Request): string {
  const ip = (request.headers.get("CF-Connecting-IP") ?? "").trim().replace(/^::ffff:(?=\d+\.)/i, "");
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(ip)) return ip;
  if (ip.includes(":") && ip.length <= 45) return ipv6Prefix64(ip) ?? "unknown";
  return "unknown";
}

/**
 * The /64 of an IPv6 address, its first four groups without leading zeros (`2001:0db8::1` → `2001:db8:0:0::/64`);
 * brackets and a `%zone` are dropped. Null for anything that is not an IPv6 address of eight groups. Never throws.
 */
export function ipv6Prefix64(ip: string): string | null {
  const bare = ip.replace(/^\[|\]$/g, "").split("%")[0]!;
  const halves = bare.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
