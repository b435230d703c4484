import {
  concatBytes,
  createHash,
  digestAlgorithm,
  digestOf,
  OciError,
  restoreHash,
  type Digest,
  type DigestAlgorithm,
  type RepositoryName,
  type ResumableHash,
} from "@registry/core";
import { readSegments, type BlobRecord, type Segment } from "./blob-record";
import type { Indexes } from "./indexes";
import { keys } from "./keys";
import type { BlobInfo, UploadBody, UploadStatus, UploadStore } from "./ports";
import { NativeDigest, readChunks } from "./streams";

/**
 * R2 multipart rules (enforced by R2, and the minimum by the local simulator too): every part but the
 * last at least 5 MiB and all of the same size, at most 10,000 parts. 8 MiB parts allow 80 GB per
 * segment while buffering at most one part per upload in the isolate's 128 MB.
 */
export const PART_SIZE = 8 * 1024 * 1024;

/** An R2 multipart upload collecting a body of unknown length (a chunked PATCH). */
interface OpenMultipart {
  key: string;
  uploadId: string;
  parts: R2UploadedPart[];
  size: number;
  /** True once a short (last) part was written: the next bytes must go to a new segment. */
  sealed: boolean;
}

/**
 * An upload session as stored at `upload/<id>`. Invariant: the bytes received so far are `segments`
 * followed by `open`, and their digest is known either as `candidates` (computed natively while the first
 * request streamed) or as the resumable sha256 `hash` (from the second request on).
 */
interface UploadState {
  v: 1;
  id: string;
  repository: RepositoryName;
  size: number;
  segments: Segment[];
  open?: OpenMultipart;
  hash?: string;
  candidates?: Record<DigestAlgorithm, Digest>;
  created: number;
}

/**
 * Upload sessions on R2. Every byte is written once: a body with a Content-Length becomes one R2 object
 * (streamed, never buffered); a body without one (docker's and containerd's chunked PATCH) goes into an
 * R2 multipart upload in PART_SIZE parts; finishing links those objects — no copy, no read-back.
 * Digests are computed while the bytes stream: natively for the first request, with core's resumable
 * hash for later ones (re-reading the first request's bytes once, when a second chunk arrives).
 */
export class R2UploadStore implements UploadStore {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly indexes: Indexes,
  ) {}

  async start(repository: RepositoryName): Promise<UploadStatus> {
    const state = newState(repository);
    await this.bucket.put(keys.upload(state.id), JSON.stringify(state));
    return status(state);
  }

  async status(repository: RepositoryName, id: string): Promise<UploadStatus | null> {
    const loaded = await this.load(repository, id);
    return loaded ? status(loaded.state) : null;
  }

  async append(repository: RepositoryName, id: string, body: UploadBody, start?: number): Promise<UploadStatus> {
    const { state, etag } = await this.require(repository, id);
    if (start !== undefined && start !== state.size) throw rangeError(state);
    const before = state.segments.length;
    await this.write(state, body);
    const saved = await this.bucket.put(keys.upload(id), JSON.stringify(state), { onlyIf: { etagMatches: etag } });
    if (!saved) {
      // Another chunk for this session was stored meanwhile: drop what this one wrote.
      const mine = state.segments.slice(before).map((s) => s.key);
      if (mine.length > 0) await this.bucket.delete(mine);
      throw new OciError("BLOB_UPLOAD_INVALID", { detail: "the upload was changed concurrently" });
    }
    return status(state);
  }

  async finish(repository: RepositoryName, id: string, digest: Digest, body?: UploadBody): Promise<BlobInfo> {
    const { state } = await this.require(repository, id);
    await this.bucket.delete(keys.upload(id));
    try {
      if (body) await this.write(state, body);
      return await this.commit(state, digest);
    } catch (e) {
      await this.discard(state);
      throw e;
    }
  }

  async cancel(repository: RepositoryName, id: string): Promise<boolean> {
    const loaded = await this.load(repository, id);
    if (!loaded) return false;
    await this.bucket.delete(keys.upload(id));
    await this.discard(loaded.state);
    return true;
  }

  async putBlob(repository: RepositoryName, digest: Digest, body: UploadBody): Promise<BlobInfo> {
    const state = newState(repository);
    try {
      await this.write(state, body);
      return await this.commit(state, digest);
    } catch (e) {
      await this.discard(state);
      throw e;
    }
  }

  /** Streams `body` into storage after the bytes already in `state`, updating it in place. */
  private async write(state: UploadState, body: UploadBody): Promise<void> {
    if (body.length === 0) return;
    if (state.open && (state.open.sealed || body.length !== undefined)) await this.close(state);

    const native = state.size === 0 ? [new NativeDigest("sha256"), new NativeDigest("sha512")] : [];
    let resumable: ResumableHash | undefined;
    if (state.size > 0) {
      if (!state.hash) {
        if (state.open) await this.close(state);
        resumable = await this.rehash(state);
      } else {
        resumable = restoreHash(state.hash);
      }
    }
    const chunks = hashed(readChunks(body.stream), native, resumable);

    const written =
      body.length !== undefined
        ? await this.putSegment(state, chunks, body.length)
        : await this.writeUnknownLength(state, chunks);
    state.size += written;

    if (resumable) {
      state.hash = resumable.saveState();
      delete state.candidates;
    } else if (native.length > 0 && state.size > 0) {
      const [sha256, sha512] = await Promise.all(native.map((n) => n.digest()));
      state.candidates = { sha256: sha256!, sha512: sha512! };
    }
  }

  /** A body of known length: one R2 object, streamed through a FixedLengthStream (R2 needs the length). */
  private async putSegment(state: UploadState, chunks: AsyncIterable<Uint8Array>, length: number): Promise<number> {
    const key = keys.data(state.id, crypto.randomUUID());
    const fixed = new FixedLengthStream(length);
    const put = this.bucket.put(key, fixed.readable);
    const writer = fixed.writable.getWriter();
    let n = 0;
    try {
      for await (const chunk of chunks) {
        n += chunk.byteLength;
        if (n > length) throw sizeError(length);
        await writer.write(chunk);
      }
      if (n !== length) throw sizeError(length);
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => undefined);
      await put.catch(() => undefined);
      await this.bucket.delete(key);
      throw e;
    }
    await put;
    state.segments.push({ key, size: length });
    return length;
  }

  /**
   * A body of unknown length: PART_SIZE parts into the open multipart upload (started on the first full
   * part). A body shorter than one part and no open multipart becomes a plain object instead; a short
   * last part seals the multipart, so a later chunk starts a new segment.
   */
  private async writeUnknownLength(state: UploadState, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    let buffer: Uint8Array[] = [];
    let buffered = 0;
    let total = 0;
    const flush = async (final: boolean) => {
      const bytes = concatBytes(buffer, buffered);
      buffer = [];
      buffered = 0;
      if (!state.open && final) {
        if (bytes.byteLength === 0) return;
        const key = keys.data(state.id, crypto.randomUUID());
        await this.bucket.put(key, bytes);
        state.segments.push({ key, size: bytes.byteLength });
        return;
      }
      if (!state.open) {
        const key = keys.data(state.id, crypto.randomUUID());
        const mp = await this.bucket.createMultipartUpload(key);
        state.open = { key, uploadId: mp.uploadId, parts: [], size: 0, sealed: false };
      }
      if (bytes.byteLength === 0) return;
      const open = state.open;
      const part = await this.bucket
        .resumeMultipartUpload(open.key, open.uploadId)
        .uploadPart(open.parts.length + 1, bytes);
      open.parts.push(part);
      open.size += bytes.byteLength;
      if (bytes.byteLength < PART_SIZE) open.sealed = true;
    };
    for await (const chunk of chunks) {
      let rest = chunk;
      while (rest.byteLength > 0) {
        const take = Math.min(rest.byteLength, PART_SIZE - buffered);
        buffer.push(rest.subarray(0, take));
        buffered += take;
        total += take;
        rest = rest.subarray(take);
        if (buffered === PART_SIZE) await flush(false);
      }
    }
    await flush(true);
    return total;
  }

  /** Completes the open multipart upload into a segment. */
  private async close(state: UploadState): Promise<void> {
    const open = state.open;
    if (!open) return;
    delete state.open;
    if (open.parts.length === 0) {
      await this.bucket.resumeMultipartUpload(open.key, open.uploadId).abort();
      return;
    }
    await this.bucket.resumeMultipartUpload(open.key, open.uploadId).complete(open.parts);
    state.segments.push({ key: open.key, size: open.size });
  }

  /** Rebuilds a resumable sha256 over the bytes already stored (needed once, when a second chunk arrives). */
  private async rehash(state: UploadState): Promise<ResumableHash> {
    const hash = createHash("sha256");
    for await (const chunk of readSegments(this.bucket, state.segments)) hash.update(chunk);
    return hash;
  }

  /** Verifies the digest and links the bytes into the repository: the only step that makes a blob visible. */
  private async commit(state: UploadState, expected: Digest): Promise<BlobInfo> {
    await this.close(state);
    const actual = await this.digestOf(state, digestAlgorithm(expected));
    if (actual !== expected) {
      throw new OciError("DIGEST_INVALID", { detail: { expected, actual } });
    }
    const record: BlobRecord = { size: state.size, segments: state.segments };
    await Promise.all([
      this.bucket.put(keys.blob(expected), JSON.stringify(record), { customMetadata: { size: String(state.size) } }),
      this.indexes.repository(state.repository).linkBlob(expected, record),
    ]);
    return { digest: expected, size: state.size };
  }

  private async digestOf(state: UploadState, algorithm: DigestAlgorithm): Promise<Digest> {
    if (state.size === 0) return digestOf(algorithm, new Uint8Array(0));
    if (state.candidates) return state.candidates[algorithm];
    if (algorithm === "sha256" && state.hash) return restoreHash(state.hash).digest();
    // sha512 over several requests: the resumable hash tracks sha256 only, so read the bytes back once.
    const native = new NativeDigest(algorithm);
    for await (const chunk of readSegments(this.bucket, state.segments)) await native.update(chunk);
    return native.digest();
  }

  /** Deletes everything an unfinished upload wrote. */
  private async discard(state: UploadState): Promise<void> {
    if (state.open) {
      await this.bucket
        .resumeMultipartUpload(state.open.key, state.open.uploadId)
        .abort()
        .catch(() => undefined);
    }
    const keysToDelete = state.segments.map((s) => s.key);
    if (keysToDelete.length > 0) await this.bucket.delete(keysToDelete);
  }

  private async load(
    repository: RepositoryName,
    id: string,
  ): Promise<{ state: UploadState; etag: string } | null> {
    if (!UPLOAD_ID.test(id)) return null;
    const obj = await this.bucket.get(keys.upload(id));
    if (!obj) return null;
    const state = JSON.parse(await obj.text()) as UploadState;
    if (state.repository !== repository) return null;
    return { state, etag: obj.etag };
  }

  private async require(repository: RepositoryName, id: string): Promise<{ state: UploadState; etag: string }> {
    const loaded = await this.load(repository, id);
    if (!loaded) throw new OciError("BLOB_UPLOAD_UNKNOWN", { detail: { id } });
    return loaded;
  }
}

const UPLOAD_ID = /^[0-9a-f-]{36}$/;

function newState(repository: RepositoryName): UploadState {
  return { v: 1, id: crypto.randomUUID(), repository, size: 0, segments: [], created: Date.now() };
}

function status(state: UploadState): UploadStatus {
  return { id: state.id, repository: state.repository, size: state.size };
}

/** 416 with the range received so far, as the spec asks for an out-of-order chunk. */
function rangeError(state: UploadState): OciError {
  return new OciError("BLOB_UPLOAD_INVALID", {
    status: 416,
    detail: { expectedStart: state.size },
    headers: { Range: `0-${Math.max(0, state.size - 1)}`, "Docker-Upload-UUID": state.id },
  });
}

function sizeError(length: number): OciError {
  return new OciError("SIZE_INVALID", { detail: `body does not match Content-Length ${length}` });
}

/** Feeds every chunk to the hashes on its way through. */
async function* hashed(
  chunks: AsyncIterable<Uint8Array>,
  native: NativeDigest[],
  resumable: ResumableHash | undefined,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    resumable?.update(chunk);
    await Promise.all(native.map((n) => n.update(chunk)));
    yield chunk;
  }
}
