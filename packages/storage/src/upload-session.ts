import { OciError, type Digest, type DigestAlgorithm, type RepositoryName } from "@registry/core";
import type { Segment } from "./blob-record";
import { keys } from "./keys";
import type { UploadStatus } from "./ports";

/** An R2 multipart upload collecting a body of unknown length (a chunked PATCH). */
export interface OpenMultipart {
  key: string;
  uploadId: string;
  parts: R2UploadedPart[];
  size: number;
  /** True once a short (last) part was written: the next bytes must go to a new segment. */
  sealed: boolean;
}

/**
 * An upload session as stored at `upload/<id>`. Invariant: the bytes received so far are `segments`
 * followed by `open`, and their digest is known either as `candidates` (hashed natively, by requests that reached
 * the isolate holding the upload's hash) or as the resumable sha256 `hash` (once a request did not). See
 * upload-hashing.ts.
 */
export interface UploadState {
  v: 1;
  id: string;
  repository: RepositoryName;
  size: number;
  segments: Segment[];
  open?: OpenMultipart;
  hash?: string;
  candidates?: Partial<Record<DigestAlgorithm, Digest>>;
  created: number;
}

/** A session as loaded, with the ETag that a compare-and-swap save must still find. */
export interface LoadedSession {
  state: UploadState;
  etag: string;
}

const UPLOAD_ID = /^[0-9a-f-]{36}$/;

/**
 * A session idle for longer than this is gone for its client (BLOB_UPLOAD_UNKNOWN), an hour before garbage
 * collection's default upload grace (24 h) may sweep it: so no upload finishes with bytes a sweep is deleting.
 */
export const SESSION_IDLE_LIMIT_MS = 23 * 3_600_000;

/** A fresh, empty session of `repository` (not stored yet). */
export function newSession(repository: RepositoryName): UploadState {
  return { v: 1, id: crypto.randomUUID(), repository, size: 0, segments: [], created: Date.now() };
}

/** What a client is told about a session. */
export function uploadStatus(state: UploadState): UploadStatus {
  return { id: state.id, repository: state.repository, size: state.size };
}

/** An out-of-order chunk: 416 BLOB_UPLOAD_INVALID naming the offset the session expects (the API adds `Range`). */
export function rangeError(state: UploadState): OciError {
  return OciError.uploadRangeInvalid({ detail: { expectedStart: state.size } });
}

/**
 * Session state in R2 at `upload/<id>`. Saves after a chunk are compare-and-swap on the ETag read before it,
 * so two chunks racing for one session cannot both be recorded.
 */
export class UploadSessions {
  constructor(private readonly bucket: R2Bucket) {}

  /** Stores a new session. */
  async create(state: UploadState): Promise<void> {
    await this.bucket.put(keys.upload(state.id), JSON.stringify(state));
  }

  /** The session `id` of `repository`, or null (unknown id, another repository's, or a malformed id). */
  async load(repository: RepositoryName, id: string): Promise<LoadedSession | null> {
    if (!UPLOAD_ID.test(id)) return null;
    const obj = await this.bucket.get(keys.upload(id));
    if (!obj || Date.now() - obj.uploaded.getTime() > SESSION_IDLE_LIMIT_MS) return null;
    const state = JSON.parse(await obj.text()) as UploadState;
    if (state.repository !== repository) return null;
    return { state, etag: obj.etag };
  }

  /** As `load`; throws `BLOB_UPLOAD_UNKNOWN` instead of returning null. */
  async require(repository: RepositoryName, id: string): Promise<LoadedSession> {
    const loaded = await this.load(repository, id);
    if (!loaded) throw new OciError("BLOB_UPLOAD_UNKNOWN", { detail: { id } });
    return loaded;
  }

  /** Saves `state` only if the stored session is still the one read with `etag`; false if it changed meanwhile. */
  async save(state: UploadState, etag: string): Promise<boolean> {
    const saved = await this.bucket.put(keys.upload(state.id), JSON.stringify(state), { onlyIf: { etagMatches: etag } });
    return saved !== null;
  }

  /** Forgets the session (its bytes are the segment writer's to delete). */
  async remove(id: string): Promise<void> {
    await this.bucket.delete(keys.upload(id));
  }
}
