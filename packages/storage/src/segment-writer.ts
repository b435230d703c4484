import { keys } from "./keys";
import type { UploadState } from "./upload-session";

/**
 * R2 multipart rules (enforced by R2, and the minimum by the local simulator too): every part but the
 * last at least 5 MiB and all of the same size, at most 10,000 parts. 8 MiB parts allow 80 GB per
 * segment while buffering at most one part per upload in the isolate's 128 MB.
 */
export const PART_SIZE = 8 * 1024 * 1024;

/**
 * Writes an upload's bytes into R2 once, as segments recorded in its session state: a body of known length
 * becomes one object (streamed, never buffered); a body of unknown length goes into an R2 multipart upload
 * in PART_SIZE parts. Knows nothing of digests: the bytes it is given were hashed on their way.
 */
export class SegmentWriter {
  constructor(private readonly bucket: R2Bucket) {}

  /** Writes `chunks` after the bytes already in `state` (updating its segments); returns the bytes written. */
  write(state: UploadState, chunks: AsyncIterable<Uint8Array>, length: number | undefined): Promise<number> {
    return length !== undefined ? this.putSegment(state, chunks, length) : this.writeUnknownLength(state, chunks);
  }

  /** Completes the open multipart upload into a segment. */
  async close(state: UploadState): Promise<void> {
    const open = state.open;
    if (!open) return;
    delete state.open;
    if (open.parts.length === 0) {
      await this.bucket.resumeMultipartUpload(open.key, open.uploadId).abort();
      return;
    }
    try {
      await this.bucket.resumeMultipartUpload(open.key, open.uploadId).complete(open.parts);
    } catch (e) {
      // Already completed by an earlier chunk that closed it, then failed (a body over the limit, a client gone)
      // before its session was saved: the object holds exactly these parts, so the segment is there.
      if ((await this.bucket.head(open.key))?.size !== open.size) throw e;
    }
    state.segments.push({ key: open.key, size: open.size });
  }

  /** Deletes everything an unfinished upload wrote. */
  async discard(state: UploadState): Promise<void> {
    if (state.open) {
      await this.bucket
        .resumeMultipartUpload(state.open.key, state.open.uploadId)
        .abort()
        .catch(() => undefined);
    }
    await this.deleteSegments(state.segments);
  }

  /** Deletes the given segments (those a chunk wrote before losing a race for its session). */
  async deleteSegments(segments: readonly { key: string }[]): Promise<void> {
    if (segments.length > 0) await this.bucket.delete(segments.map((s) => s.key));
  }

  /**
   * A body of known length: one R2 object, streamed through a FixedLengthStream (R2 needs the length). The
   * chunks come from a Verifier that fails before the last one if the body is not `length` bytes, so the put
   * never completes with other bytes.
   */
  private async putSegment(state: UploadState, chunks: AsyncIterable<Uint8Array>, length: number): Promise<number> {
    const key = keys.data(state.id, crypto.randomUUID());
    const fixed = new FixedLengthStream(length);
    const put = this.bucket.put(key, fixed.readable);
    const writer = fixed.writable.getWriter();
    try {
      for await (const chunk of chunks) await writer.write(chunk);
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
   * last part seals the multipart, so a later chunk starts a new segment. The chunks are copied into one part
   * buffer as they come (they may be recycled by their reader: streams.ts), reused for every part.
   */
  private async writeUnknownLength(state: UploadState, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const part = new Uint8Array(PART_SIZE);
    let buffered = 0;
    let total = 0;
    const flush = async (final: boolean) => {
      const bytes = part.subarray(0, buffered);
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
      const uploaded = await this.bucket
        .resumeMultipartUpload(open.key, open.uploadId)
        .uploadPart(open.parts.length + 1, bytes);
      open.parts.push(uploaded);
      open.size += bytes.byteLength;
      if (bytes.byteLength < PART_SIZE) open.sealed = true;
    };
    for await (const chunk of chunks) {
      let rest = chunk;
      while (rest.byteLength > 0) {
        const take = Math.min(rest.byteLength, PART_SIZE - buffered);
        part.set(rest.subarray(0, take), buffered);
        buffered += take;
        total += take;
        rest = rest.subarray(take);
        if (buffered === PART_SIZE) await flush(false);
      }
    }
    await flush(true);
    return total;
  }
}
