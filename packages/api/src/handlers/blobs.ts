import { OciError, parseDigest } from "@registry/core";
import type { Handler } from "../context";
import { BLOB_CONTENT_TYPE, parseRange } from "../http";

/**
 * `GET|HEAD /v2/<name>/blobs/<digest>` with optional `Range` (spec §"Pulling blobs"): the blob's own
 * digest and exact length, `application/octet-stream`, never re-encoded.
 */
export const getBlob: Handler = async ({ request, repository, params, head }, { stores }) => {
  const digest = parseDigest(params.digest ?? "");
  const rangeHeader = request.headers.get("Range");
  const headers: Record<string, string> = {
    "Content-Type": BLOB_CONTENT_TYPE,
    "Docker-Content-Digest": digest,
    "Accept-Ranges": "bytes",
    ETag: `"${digest}"`,
    "Cache-Control": "public, max-age=31536000, immutable",
  };
  if (head) {
    const info = await stores.blobs.stat(repository, digest);
    if (!info) throw new OciError("BLOB_UNKNOWN", { detail: { digest } });
    const range = parseRange(rangeHeader, info.size);
    if (range) {
      headers["Content-Range"] = `bytes ${range.offset}-${range.offset + range.length - 1}/${info.size}`;
      headers["Content-Length"] = String(range.length);
      return new Response(null, { status: 206, headers });
    }
    headers["Content-Length"] = String(info.size);
    return new Response(null, { headers });
  }
  const blob = await stores.blobs.get(repository, digest, (size) => parseRange(rangeHeader, size));
  if (!blob) throw new OciError("BLOB_UNKNOWN", { detail: { digest } });
  if (blob.range) {
    const { offset, length } = blob.range;
    headers["Content-Range"] = `bytes ${offset}-${offset + length - 1}/${blob.size}`;
    headers["Content-Length"] = String(length);
    return new Response(blob.body, { status: 206, headers, encodeBody: "manual" });
  }
  headers["Content-Length"] = String(blob.size);
  return new Response(blob.body, { headers, encodeBody: "manual" });
};

/** `DELETE /v2/<name>/blobs/<digest>` — unlinks the blob from the repository (spec §"Deleting blobs"). */
export const deleteBlob: Handler = async ({ repository, params }, { stores }) => {
  const digest = parseDigest(params.digest ?? "");
  if (!(await stores.blobs.delete(repository, digest))) throw new OciError("BLOB_UNKNOWN", { detail: { digest } });
  return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
};
