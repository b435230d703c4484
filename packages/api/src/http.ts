import { OciError, readBounded, type RepositoryName } from "@registry/core";
import type { ByteRange, UploadBody } from "@registry/storage";

/** Headers every /v2 response carries (docker checks the version header on `GET /v2/`). */
export const API_VERSION_HEADERS = { "Docker-Distribution-API-Version": "registry/2.0" } as const;

/** Blob bytes are opaque: this Content-Type also keeps the runtime from compressing them on the fly. */
export const BLOB_CONTENT_TYPE = "application/octet-stream";

/**
 * Parses a blob GET `Range: bytes=a-b | a- | -n` against the blob's size (RFC 9110 §14.1.2).
 * Returns undefined for no header or a form we serve whole (several ranges); throws 416 when unsatisfiable.
 */
export function parseRange(header: string | null, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a = "", b = ""] = m;
  let start: number;
  let end: number;
  if (a === "" && b === "") return undefined;
  if (a === "") {
    const suffix = Number(b);
    if (suffix === 0) throw OciError.rangeNotSatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== "" && Number(b) < start) return undefined;
  }
  if (start >= size || end < start) throw OciError.rangeNotSatisfiable(size);
  return { offset: start, length: end - start + 1 };
}

/**
 * Parses an upload's `Content-Range: <start>-<end>` (with or without the `bytes ` prefix docker and
 * some clients add). Returns the start and the length it announces; malformed → 416 as the spec asks.
 */
export function parseContentRange(header: string | null): { start: number; length: number } | undefined {
  if (!header) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw OciError.uploadRangeInvalid({ detail: `bad Content-Range ${header}` });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw OciError.uploadRangeInvalid({ detail: `bad Content-Range ${header}` });
  return { start, length: end - start + 1 };
}

/**
 * The request body as an upload chunk, or undefined when there is none. A body without Content-Length
 * (chunked transfer encoding) is passed on with an unknown length.
 */
export function uploadBody(request: Request): UploadBody | undefined {
  const header = request.headers.get("Content-Length");
  if (header !== null) {
    if (!/^\d+$/.test(header.trim())) throw new OciError("SIZE_INVALID", { detail: "bad Content-Length" });
    const length = Number(header);
    if (length === 0 || !request.body) return undefined;
    return { stream: request.body, length };
  }
  return request.body ? { stream: request.body } : undefined;
}

/** Reads a body of at most `limit` bytes; larger → 413 SIZE_INVALID (the rest is left to `drainUnread`). */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const bytes = await readBounded(request, limit);
  if (!bytes) throw tooLarge(limit);
  return bytes;
}

function tooLarge(limit: number): OciError {
  return OciError.tooLarge(`body larger than ${limit} bytes`);
}

/** Page size from `?n=`: absent → `fallback`; not a non-negative integer → 400. */
export function pageSize(url: URL, fallback: number, max: number): number {
  const n = url.searchParams.get("n");
  if (n === null || n === "") return fallback;
  if (!/^\d+$/.test(n)) throw OciError.badParameter("n must be a non-negative integer");
  return Math.min(Number(n), max);
}

/**
 * RFC 8288 `Link` to the next page: absolute (keeps the host and port the client used), in angle brackets.
 */
export function nextLink(url: URL, n: number, last: string): string {
  const next = new URL(url.pathname, url.origin);
  for (const [k, v] of url.searchParams) if (k !== "n" && k !== "last") next.searchParams.append(k, v);
  next.searchParams.set("n", String(n));
  next.searchParams.set("last", last);
  return `<${next.toString()}>; rel="next"`;
}

/** Where a session's next request goes, and what it reports (spec §"Pushing a blob in chunks"). */
export function uploadHeaders(repository: RepositoryName, id: string, size: number): Record<string, string> {
  return {
    Location: `/v2/${repository}/blobs/uploads/${id}`,
    Range: `0-${Math.max(0, size - 1)}`,
    "Docker-Upload-UUID": id,
    "Content-Length": "0",
  };
}

/** JSON response with an exact Content-Length. */
export function json(body: unknown, init: ResponseInit = {}): Response {
  const text = JSON.stringify(body);
  const headers = new Headers(init.headers);
  headers.set("Content-Type", headers.get("Content-Type") ?? "application/json");
  return new Response(text, { ...init, headers });
}
