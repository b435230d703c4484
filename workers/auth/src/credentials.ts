/**
 * Reading who is asking: HTTP Basic credentials (RFC 7617) on the token endpoint, and the client's address.
 */
import { MAX_AUTHORIZATION_BYTES } from "@registry/token";

/** A username and secret as sent. */
export interface Credentials {
  username: string;
  password: string;
}

/** The Authorization header: none (anonymous), Basic credentials, or something unusable (→ 401). */
export type Authorization = { kind: "none" } | { kind: "basic"; credentials: Credentials } | { kind: "invalid" };

const BASIC = /^[ \t]*basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;

/**
 * Parses `Authorization: Basic base64(user:pass)` (scheme case-insensitive, UTF-8). Absent or empty → none; over
 * 8 KiB, another scheme, bad base64, bad UTF-8, no colon or an empty username → invalid. Never throws.
 */
export function parseAuthorization(header: string | null): Authorization {
  if (header === null || header.trim() === "") return { kind: "none" };
  if (header.length > MAX_AUTHORIZATION_BYTES) return { kind: "invalid" };
  const m = BASIC.exec(header);
  if (!m) return { kind: "invalid" };
  let text: string;
  try {
    const binary = atob(m[1]!);
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return { kind: "invalid" };
  }
  const colon = text.indexOf(":");
  if (colon <= 0) return { kind: "invalid" };
  return { kind: "basic", credentials: { username: text.slice(0, colon), password: text.slice(colon + 1) } };
}

/** Expands an IPv6 address to its eight hextets, or null. */
function hextets(ip: string): string[] | null {
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  return all.every((h) => /^[0-9a-f]{1,4}$/i.test(h)) ? all.map((h) => h.toLowerCase().replace(/^0+(?=.)/, "")) : null;
}

/**
 * The address failed logins are counted against: `CF-Connecting-IP` only (set by Cloudflare's edge; never
 * X-Forwarded-For, which any client can write). IPv6 addresses count per /64 (one subscriber's prefix);
 * an absent or malformed header counts as "unknown".
 */
export function clientAddress(request: Request): string {
  const ip = (request.headers.get("CF-Connecting-IP") ?? "").trim().replace(/^::ffff:(?=\d+\.)/i, "");
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(ip)) return ip;
  if (ip.includes(":") && ip.length <= 45) {
    const h = hextets(ip);
    if (h) return `${h.slice(0, 4).join(":")}::/64`;
  }
  return "unknown";
}
