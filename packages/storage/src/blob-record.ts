import { OciError } from "@registry/core";
import type { ByteRange } from "./ports";
import { readChunks } from "./streams";

/** One R2 object holding a contiguous run of a blob's bytes. */
export interface Segment {
  key: string;
  size: number;
}

/**
 * Where a blob's bytes live: one or more segments, in order. Almost every blob is one segment
 * (one request body, or one R2 multipart upload); an upload sent as several PATCHes whose sizes do not
 * fit R2's multipart rules becomes several segments, joined on read instead of copied on write.
 */
export interface BlobRecord {
  size: number;
  segments: Segment[];
}

/** Parses a stored record; a corrupt record is a storage fault, not a client error. */
export function parseBlobRecord(text: string): BlobRecord {
  const r = JSON.parse(text) as BlobRecord;
  if (typeof r.size !== "number" || !Array.isArray(r.segments)) throw new Error("corrupt blob record");
  return r;
}

/**
 * Streams `range` (default: everything) of a blob. A single segment is R2's own body (its length is known,
 * so the response carries Content-Length); several segments are read one after the other into a
 * FixedLengthStream, never more than one segment's chunk in memory.
 */
export async function readBlob(
  bucket: R2Bucket,
  record: BlobRecord,
  range: ByteRange = { offset: 0, length: record.size },
): Promise<ReadableStream<Uint8Array>> {
  const pieces = slice(record.segments, range);
  if (pieces.length === 0) {
    const empty = new FixedLengthStream(0);
    void empty.writable.close();
    return empty.readable;
  }
  if (pieces.length === 1) {
    const p = pieces[0]!;
    const whole = p.offset === 0 && p.length === p.segment.size;
    const obj = await bucket.get(p.segment.key, whole ? {} : { range: { offset: p.offset, length: p.length } });
    if (!obj) throw new Error(`blob segment ${p.segment.key} missing`);
    return obj.body;
  }
  const out = new FixedLengthStream(range.length);
  const pump = async () => {
    for (const p of pieces) {
      const obj = await bucket.get(p.segment.key, { range: { offset: p.offset, length: p.length } });
      if (!obj) throw new Error(`blob segment ${p.segment.key} missing`);
      await obj.body.pipeTo(out.writable, { preventClose: true });
    }
    await out.writable.close();
  };
  pump().catch((e: unknown) => out.writable.abort(e).catch(() => undefined));
  return out.readable;
}

/** Yields all bytes of the given segments in order (used to re-hash an upload). */
export async function* readSegments(bucket: R2Bucket, segments: Segment[]): AsyncGenerator<Uint8Array> {
  for (const s of segments) {
    if (s.size === 0) continue;
    const obj = await bucket.get(s.key);
    if (!obj) throw new OciError("BLOB_UPLOAD_INVALID", { detail: "upload data is gone" });
    yield* readChunks(obj.body);
  }
}

interface Piece {
  segment: Segment;
  offset: number;
  length: number;
}

/** The parts of each segment that cover `range`. */
function slice(segments: Segment[], range: ByteRange): Piece[] {
  const out: Piece[] = [];
  let start = 0;
  const end = range.offset + range.length;
  for (const segment of segments) {
    const segEnd = start + segment.size;
    const from = Math.max(range.offset, start);
    const to = Math.min(end, segEnd);
    if (to > from) out.push({ segment, offset: from - start, length: to - from });
    start = segEnd;
    if (start >= end) break;
  }
  return out;
}
