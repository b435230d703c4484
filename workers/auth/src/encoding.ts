/**
 * Byte encodings the auth service needs: base64url without padding (RFC 4648 § 5) for secrets and salts (jose's,
 * as the tokens use) and hex SHA-256 for stored digests.
 */
import { digestHex, digestOf } from "@registry/core";
import { base64url } from "@registry/token";

/** Unpadded base64url of `bytes`. */
export function toBase64Url(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

/** Bytes of an unpadded base64url string, or undefined if `s` is not one (padding and whitespace included). */
export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  try {
    return base64url.decode(s) as Uint8Array<ArrayBuffer>;
  } catch {
    return undefined;
  }
}

/** `n` cryptographically random bytes. */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** Hex SHA-256 of a string's UTF-8 bytes (core's digest, without its `sha256:` prefix). */
export async function sha256Hex(s: string): Promise<string> {
  return digestHex(await digestOf("sha256", new TextEncoder().encode(s)));
}
