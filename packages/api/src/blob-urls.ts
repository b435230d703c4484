import type { RepositoryName } from "@registry/core";
import type { Grant } from "./context";

/**
 * Blob bytes from another origin, the way Docker Hub and GHCR send blob GETs to a CDN: an authorized GET of a
 * large blob is answered `307` to a *signed URL* of the same path on the origin that serves bytes, valid for
 * BLOB_URL_TTL_MS; the signature is the credential there (no token needed), so the redirect works for every
 * client whether or not it resends `Authorization` (Go drops it for another host, curl for another port).
 *
 * Locally the origin is the runtime's own listener: a Node front relays at most ~1.2 GB/s of the ~2.2 GB/s
 * workerd serves on 2 cores (every byte crosses user space twice, and Node's HTTP parser copies bodies), so the
 * front (scripts/front.mjs) names the runtime's origin in BLOB_ORIGIN_HEADER (stripping any copy a client sent)
 * and big blobs skip it. On Cloudflare nothing sets that header and every blob is served inline (a presigned R2
 * URL or a public bucket domain would be the origin there). HEAD and blobs under BLOB_REDIRECT_MIN stay inline.
 *
 * The HMAC key is made per isolate and never leaves it: locally one workerd isolate signs and verifies. A URL
 * whose signature no longer verifies (expired, or another isolate) falls back to the route's normal access
 * check, so a client with a token still gets its bytes.
 */
export const BLOB_ORIGIN_HEADER = "x-blob-origin";
/** Blobs at least this large are redirected when an origin is known; smaller ones are served inline. */
export const BLOB_REDIRECT_MIN = 16 * 1024 * 1024;
/** How long a signed blob URL is valid (checked when its GET starts, not while the bytes flow). */
export const BLOB_URL_TTL_MS = 10 * 60 * 1000;

const EXPIRES = "expires";
const SIGNATURE = "signature";

let key: Promise<CryptoKey> | undefined;
function signingKey(): Promise<CryptoKey> {
  key ??= crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]) as Promise<CryptoKey>;
  return key;
}

const encoder = new TextEncoder();
const signed = (path: string, expires: string) => encoder.encode(`${path}\n${expires}`);

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * `request` without a client's own BLOB_ORIGIN_HEADER: a worker that is not behind the local front (on
 * Cloudflare, and the mirror everywhere) must not let a client pick where its blob GET is redirected.
 */
export function withoutBlobOrigin(request: Request): Request {
  if (!request.headers.has(BLOB_ORIGIN_HEADER)) return request;
  const headers = new Headers(request.headers);
  headers.delete(BLOB_ORIGIN_HEADER);
  return new Request(request, { headers });
}

/** The origin the front named for this request's blob bytes, or undefined (serve inline). */
export function blobOrigin(request: Request): string | undefined {
  const origin = request.headers.get(BLOB_ORIGIN_HEADER);
  return origin && /^https?:\/\/[^/?#\s]+$/.test(origin) ? origin : undefined;
}

/** Does `url` carry a blob URL signature (valid or not)? Such a request is never redirected again. */
export function isSignedBlobUrl(url: URL): boolean {
  return url.searchParams.has(SIGNATURE);
}

/** `url`'s path on `origin`, signed until now + BLOB_URL_TTL_MS. */
export async function signBlobUrl(origin: string, url: URL, now = Date.now()): Promise<string> {
  const expires = String(now + BLOB_URL_TTL_MS);
  const signature = await crypto.subtle.sign("HMAC", await signingKey(), signed(url.pathname, expires));
  return `${origin}${url.pathname}?${EXPIRES}=${expires}&${SIGNATURE}=${base64url(signature)}`;
}

/** True when `url` carries an unexpired signature made by `signBlobUrl` for its own path. */
export async function verifyBlobUrl(url: URL, now = Date.now()): Promise<boolean> {
  const expires = url.searchParams.get(EXPIRES) ?? "";
  const signature = fromBase64url(url.searchParams.get(SIGNATURE) ?? "");
  if (!signature || !/^\d+$/.test(expires) || Number(expires) < now) return false;
  return crypto.subtle.verify("HMAC", await signingKey(), signature, signed(url.pathname, expires));
}

/**
 * The access a valid signed blob URL grants: pulling `repository` (the one in the signed path), nothing else;
 * undefined when the request carries no valid signature.
 */
export async function signedBlobGrant(request: Request, repository: RepositoryName): Promise<Grant | undefined> {
  const url = new URL(request.url);
  if (!isSignedBlobUrl(url) || !/\/blobs\/[^/]+$/.test(url.pathname) || !(await verifyBlobUrl(url))) return undefined;
  return { canPull: (r) => r === repository, pullable: [repository], mayPush: false };
}
