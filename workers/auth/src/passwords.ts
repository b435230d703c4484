/**
 * Secrets at rest: salted PBKDF2-SHA256 hashes (WebCrypto), compared in constant time; random secrets for robots
 * and refresh tokens. workerd refuses PBKDF2 above 100,000 iterations, so that is the work factor used.
 * Stored form: `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>` (16-byte salt, 32-byte hash).
 */
import { constantTimeEqual } from "@registry/core";
import { fromBase64Url, randomBytes, toBase64Url } from "./encoding";

/** PBKDF2 iterations: the most workerd allows. */
export const PBKDF2_ITERATIONS = 100_000;
/** Longest secret accepted (longer ones are refused before hashing). */
export const MAX_SECRET_LENGTH = 1024;

const encoder = new TextEncoder();

async function pbkdf2(secret: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

/** The stored hash of `secret`: PBKDF2-SHA256, 100,000 iterations, fresh 16-byte salt. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await pbkdf2(secret, salt, PBKDF2_ITERATIONS);
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

/** True if `secret` matches the stored hash (constant-time compare). False for any malformed stored value. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split("$");
  const saltBytes = fromBase64Url(salt ?? "");
  const hashBytes = fromBase64Url(hash ?? "");
  const n = Number(iterations);
  if (scheme !== "pbkdf2-sha256" || !Number.isInteger(n) || n < 1 || n > PBKDF2_ITERATIONS || !saltBytes || !hashBytes) return false;
  return constantTimeEqual(await pbkdf2(secret, saltBytes, n), hashBytes);
}

let dummy: Promise<string> | undefined;
/** A hash no secret is known for: checked against when the account does not exist, so timing does not tell. */
export function dummyHash(): Promise<string> {
  dummy ??= hashSecret(toBase64Url(randomBytes(32)));
  return dummy;
}

/** A new random secret: `bytes` (default 32) random bytes, base64url. */
export function randomSecret(bytes = 32): string {
  return toBase64Url(randomBytes(bytes));
}
