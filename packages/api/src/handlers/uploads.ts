import { isOciError, OciError, parseDigest, type RepositoryName } from "@registry/core";
import { PART_SIZE } from "@registry/storage";
import type { Handler } from "../context";
import { parseContentRange, uploadBody, uploadHeaders } from "../http";
import { mountSources } from "../mount-sources";

/**
 * `POST /v2/<name>/blobs/uploads/` (spec §"Pushing blobs"): `?mount=&from=` cross-repository mount (201),
 * `?digest=` monolithic upload (201), else a new session (202). A mount takes a blob only from a repository
 * the caller may pull (see `mountSources`); a mount from elsewhere, or of a blob that is not there, silently
 * becomes a new session, and other repositories are not even looked at: existence never leaks.
 */
export const startUpload: Handler = async ({ request, url, repository, grant }, { stores }) => {
  const mount = url.searchParams.get("mount");
  if (mount !== null) {
    const digest = parseDigest(mount);
    const sources = await mountSources(url.searchParams.get("from"), repository, grant);
    const mounted = await stores.blobs.mount(repository, digest, sources);
    if (mounted) return blobCreated(repository, mounted.digest);
  }

  const digestParam = url.searchParams.get("digest");
  if (digestParam !== null) {
    const digest = parseDigest(digestParam);
    const body = uploadBody(request) ?? { stream: new Response("").body!, length: 0 };
    const blob = await stores.uploads.putBlob(repository, digest, body);
    return blobCreated(repository, blob.digest);
  }

  const session = await stores.uploads.start(repository);
  return new Response(null, {
    status: 202,
    headers: { ...uploadHeaders(repository, session.id, 0), "OCI-Chunk-Min-Length": String(PART_SIZE) },
  });
};

/** `PATCH /v2/<name>/blobs/uploads/<id>` — a chunk, optionally with `Content-Range` (spec §"Pushing a blob in chunks"). */
export const appendChunk: Handler = async ({ request, repository, params }, { stores }) => {
  const id = params.id ?? "";
  const range = parseContentRange(request.headers.get("Content-Range"));
  const body = uploadBody(request);
  if (range && body?.length !== undefined && body.length !== range.length) {
    throw OciError.uploadRangeInvalid({ detail: "Content-Range does not match Content-Length" });
  }
  const status = body
    ? await stores.uploads.append(repository, id, body, range?.start).catch(withSessionHeaders(repository, id))
    : await stores.uploads.status(repository, id);
  if (!status) throw new OciError("BLOB_UPLOAD_UNKNOWN", { detail: { id } });
  if (!body && range && range.start !== status.size) {
    throw OciError.uploadRangeInvalid({ headers: uploadHeaders(repository, id, status.size) });
  }
  return new Response(null, { status: 202, headers: uploadHeaders(repository, status.id, status.size) });
};

/** `PUT /v2/<name>/blobs/uploads/<id>?digest=` — last chunk (optional) and verification (201). */
export const finishUpload: Handler = async ({ request, url, repository, params }, { stores }) => {
  const id = params.id ?? "";
  const digestParam = url.searchParams.get("digest");
  if (!digestParam) throw new OciError("DIGEST_INVALID", { detail: "digest query parameter is required" });
  const digest = parseDigest(digestParam);
  const range = parseContentRange(request.headers.get("Content-Range"));
  const body = uploadBody(request);
  if (range) {
    const status = await stores.uploads.status(repository, id);
    if (!status) throw new OciError("BLOB_UPLOAD_UNKNOWN", { detail: { id } });
    if (range.start !== status.size) {
      throw OciError.uploadRangeInvalid({ headers: uploadHeaders(repository, id, status.size) });
    }
  }
  const blob = await stores.uploads.finish(repository, id, digest, body);
  return blobCreated(repository, blob.digest);
};

/** `GET /v2/<name>/blobs/uploads/<id>` — how much has arrived (204, `Range`). */
export const getUploadStatus: Handler = async ({ repository, params }, { stores }) => {
  const status = await stores.uploads.status(repository, params.id ?? "");
  if (!status) throw new OciError("BLOB_UPLOAD_UNKNOWN", { detail: { id: params.id } });
  return new Response(null, { status: 204, headers: uploadHeaders(repository, status.id, status.size) });
};

/** `DELETE /v2/<name>/blobs/uploads/<id>` — cancel, discarding what was written (204). */
export const cancelUpload: Handler = async ({ repository, params }, { stores }) => {
  if (!(await stores.uploads.cancel(repository, params.id ?? ""))) {
    throw new OciError("BLOB_UPLOAD_UNKNOWN", { detail: { id: params.id } });
  }
  return new Response(null, { status: 204 });
};

function blobCreated(repository: string, digest: string): Response {
  return new Response(null, {
    status: 201,
    headers: { Location: `/v2/${repository}/blobs/${digest}`, "Docker-Content-Digest": digest, "Content-Length": "0" },
  });
}

/**
 * Rethrows storage's out-of-order error (`detail.expectedStart`) as the spec's 416 with the session's `Range`,
 * `Location` and `Docker-Upload-UUID`; any other error as it is.
 */
function withSessionHeaders(repository: RepositoryName, id: string) {
  return (e: unknown): never => {
    const expected = isOciError(e) ? (e.detail as { expectedStart?: unknown } | undefined)?.expectedStart : undefined;
    if (!isOciError(e) || typeof expected !== "number") throw e;
    throw OciError.uploadRangeInvalid({ detail: e.detail, headers: uploadHeaders(repository, id, expected) });
  };
}
