import { OciError, parseDigest, type Digest } from "@registry/core";
import type { ByteRange } from "@registry/storage";
import { BLOB_REDIRECT_MIN, blobOrigin, isSignedBlobUrl, signBlobUrl } from "../blob-urls";
import type { Handler, ReadDeps } from "../context";
import { BLOB_CONTENT_TYPE, parseRange } from "../http";

/**
 * `GET|HEAD /v2/<name>/blobs/<digest>` with optional `Range` (spec §"Pulling blobs"): the blob's own
 * digest and exact length, `application/octet-stream`, never re-encoded. A GET is one lookup (`open`),
 * then the range is resolved against the size, then one read of the bytes — or, for a blob of at least
 * BLOB_REDIRECT_MIN when the front names an origin for blob bytes, a 307 to a signed URL there (blob-urls.ts).
 */
export const getBlob: Handler<ReadDeps> = async ({ request, url, repository, params, head }, { stores }) => {
  const digest = parseDigest(params.digest ?? "");
  const rangeHeader = request.headers.get("Range");
  if (head) {
    const info = await stores.blobs.stat(repository, digest);
    if (!info) throw new OciError("BLOB_UNKNOWN", { detail: { digest } });
    const range = parseRange(rangeHeader, info.size);
    return new Response(null, blobResponse(digest, info.size, range));
  }
  const blob = await stores.blobs.open(repository, digest);
  if (!blob) throw new OciError("BLOB_UNKNOWN", { detail: { digest } });
  const origin = blobOrigin(request);
  if (origin && blob.size >= BLOB_REDIRECT_MIN && !isSignedBlobUrl(url)) return redirect(digest, await signBlobUrl(origin, url));
  const range = parseRange(rangeHeader, blob.size);
  const body = await blob.read(range);
  return new Response(body, { ...blobResponse(digest, blob.size, range), encodeBody: "manual" });
};

/** Status and headers of a blob response: 200 with the whole size, or 206 with `Content-Range`. */
function blobResponse(digest: Digest, size: number, range: ByteRange | undefined): ResponseInit {
  const headers: Record<string, string> = {
    "Content-Type": BLOB_CONTENT_TYPE,
    "Docker-Content-Digest": digest,
    "Accept-Ranges": "bytes",
    ETag: `"${digest}"`,
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Length": String(range ? range.length : size),
  };
  if (!range) return { headers };
  headers["Content-Range"] = `bytes ${range.offset}-${range.offset + range.length - 1}/${size}`;
  return { status: 206, headers };
}

/** The 307 to the blob's signed URL (clients resend the same GET there, `Range` included); never cached. */
function redirect(digest: Digest, location: string): Response {
  return new Response(null, {
    status: 307,
    headers: { Location: location, "Docker-Content-Digest": digest, "Cache-Control": "no-store", "Content-Length": "0" },
  });
}

/** `DELETE /v2/<name>/blobs/<digest>` — unlinks the blob from the repository (spec §"Deleting blobs"). */
export const deleteBlob: Handler = async ({ repository, params }, { stores }) => {
  const digest = parseDigest(params.digest ?? "");
  if (!(await stores.blobs.delete(repository, digest))) throw new OciError("BLOB_UNKNOWN", { detail: { digest } });
  return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
};
