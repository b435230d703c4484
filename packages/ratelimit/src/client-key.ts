/**
 * Whom a pull is counted against when it carries no account: the client's address as Cloudflare reports it
 * in `CF-Connecting-IP` (set by the edge, not by the client), IPv4 whole, IPv6 by its /64 (one subscriber's
 * network, as Docker Hub counts). `X-Forwarded-For` and similar client-supplied headers are ignored.
 */
export function clientAddress(request: Request): string {
  const ip = request.headers.get("CF-Connecting-IP")?.trim() ?? "";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return ip;
  if (ip.includes(":")) return ipv6Prefix64(ip) ?? "unknown";
  return "unknown";
}

/** The first four groups of an IPv6 address, expanded (`2001:db8::1` → `2001:db8:0:0::/64`). */
export function ipv6Prefix64(ip: string): string | null {
  const bare = ip.replace(/^\[|\]$/g, "").split("%")[0]!.toLowerCase();
  if (!/^[0-9a-f:.]+$/.test(bare)) return null;
  const [head = "", tail] = bare.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 0) return null;
  const groups = [...left, ...Array<string>(Math.max(0, missing)).fill("0"), ...right];
  const prefix = groups.slice(0, 4).map((g) => (g.replace(/^0+(?=.)/, "") || "0"));
  return `${prefix.join(":")}::/64`;
}
