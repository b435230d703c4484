/**
 * Reading who is asking: HTTP Basic credentials (RFC 7617) on the token endpoint (the client's address is core's
 * `clientAddress`).
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
