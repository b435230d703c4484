import { digestAlgorithm, OciError, verifyDigest, type Digest, type RepositoryName } from "@registry/core";
import type { BlobRecord } from "./blob-record";
import type { Indexes } from "./indexes";
import type { BlobInfo, UploadBody, UploadStatus, UploadStore } from "./ports";
import { SegmentWriter } from "./segment-writer";
import { readChunks } from "./streams";
import { forgetHash, needsReadBack, recordHashes, uploadDigest, uploadHashing } from "./upload-hashing";
import { newSession, rangeError, uploadStatus, UploadSessions, type UploadState } from "./upload-session";

export { PART_SIZE } from "./segment-writer";

/**
 * Upload sessions on R2, composed of three parts: the session state and its compare-and-swap saves
 * (upload-session.ts), the segment writer that puts every byte into R2 once (segment-writer.ts), and the
 * digests computed while the bytes stream (upload-hashing.ts, core's Verifier). Finishing records the written
 * objects in the blob index and links them into the repository — no copy, no read-back (but for a sha512 upload
 * spread over several requests); when the registry already holds the digest, its copy is linked and the new bytes
 * are deleted, so a layer pushed to many repositories is stored once.
 */
export class R2UploadStore implements UploadStore {
  private readonly sessions: UploadSessions;
  private readonly segments: SegmentWriter;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly indexes: Indexes,
  ) {
    this.sessions = new UploadSessions(bucket);
    this.segments = new SegmentWriter(bucket);
  }

  async start(repository: RepositoryName): Promise<UploadStatus> {
    const state = newSession(repository);
    await this.sessions.create(state);
    return uploadStatus(state);
  }

  async status(repository: RepositoryName, id: string): Promise<UploadStatus | null> {
    const loaded = await this.sessions.load(repository, id);
    return loaded ? uploadStatus(loaded.state) : null;
  }

  async append(repository: RepositoryName, id: string, body: UploadBody, start?: number): Promise<UploadStatus> {
    const { state, etag } = await this.sessions.require(repository, id);
    if (start !== undefined && start !== state.size) throw rangeError(state);
    const before = state.segments.length;
    const saved = await this.write(state, body);
    if (!(await this.sessions.save(state, etag))) {
      // Another chunk for this session was stored meanwhile: drop what this one wrote.
      await this.segments.deleteSegments(state.segments.slice(before));
      throw new OciError("BLOB_UPLOAD_INVALID", { detail: "the upload was changed concurrently" });
    }
    saved();
    return uploadStatus(state);
  }

  async finish(repository: RepositoryName, id: string, digest: Digest, body?: UploadBody): Promise<BlobInfo> {
    const { state } = await this.sessions.require(repository, id);
    await this.sessions.remove(id);
    forgetHash(id);
    return this.completing(state, async () => {
      if (body) await this.write(state, body, digest);
      return this.commit(state, digest);
    });
  }

  async cancel(repository: RepositoryName, id: string): Promise<boolean> {
    const loaded = await this.sessions.load(repository, id);
    if (!loaded) return false;
    await this.sessions.remove(id);
    forgetHash(id);
    await this.segments.discard(loaded.state);
    return true;
  }

  async putBlob(repository: RepositoryName, digest: Digest, body: UploadBody): Promise<BlobInfo> {
    const state = newSession(repository);
    return this.completing(state, async () => {
      await this.write(state, body, digest);
      return this.commit(state, digest);
    });
  }

  /** Runs the last steps of an upload; on any failure everything it wrote is deleted. */
  private async completing(state: UploadState, steps: () => Promise<BlobInfo>): Promise<BlobInfo> {
    try {
      return await steps();
    } catch (e) {
      await this.segments.discard(state);
      throw e;
    }
  }

  /**
   * Streams `body` into storage after the bytes already in `state`, hashed (and checked against `expected`
   * where the hash allows) on the way, updating `state` in place. Returns what to run once the session is saved.
   */
  private async write(state: UploadState, body: UploadBody, expected?: Digest): Promise<() => void> {
    if (body.length === 0) return () => undefined;
    const open = state.open;
    // A known length is a segment of its own; a sealed multipart takes no more parts; a rehash reads segments.
    if (open && (open.sealed || body.length !== undefined || needsReadBack(state))) await this.segments.close(state);
    const hashing = await uploadHashing(this.bucket, state, body.length, expected);
    state.size += await this.segments.write(state, hashing.verifier.through(readChunks(body.stream, { recycle: true })), body.length);
    return recordHashes(state, hashing);
  }

  /** Verifies the digest and links the bytes into the repository: the only step that makes a blob visible. */
  private async commit(state: UploadState, expected: Digest): Promise<BlobInfo> {
    await this.segments.close(state);
    verifyDigest(expected, await uploadDigest(this.bucket, state, digestAlgorithm(expected)));
    // The blob index first (it keeps an existing copy, and a GC run then never condemns it), then the link.
    const written: BlobRecord = { size: state.size, segments: state.segments };
    const { record, duplicate } = await this.indexes.blobs.of(expected).commit(expected, written);
    await this.indexes.repository(state.repository).linkBlob(expected, record);
    if (duplicate) await this.segments.deleteSegments(state.segments);
    return { digest: expected, size: state.size };
  }
}
