import { concatBytes, formatDigest, type ContentHash, type Digest, type DigestAlgorithm } from "@registry/core";

/** Size of the buffers a request body is read into: large reads keep hashing and copying cheap. */
export const READ_CHUNK = 1024 * 1024;

/**
 * Yields a byte stream as chunks of up to `chunkSize` bytes (exactly `chunkSize` except the last).
 * Uses a BYOB reader where the stream supports it: workerd hands a default reader 4 KiB at a time,
 * which makes per-chunk costs (hashing, stream writes) dominate.
 */
export async function* readChunks(
  stream: ReadableStream<Uint8Array>,
  chunkSize = READ_CHUNK,
): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    byob = undefined;
  }
  if (!byob) {
    yield* rechunk(stream, chunkSize);
    return;
  }
  try {
    for (;;) {
      let buffer = new ArrayBuffer(chunkSize);
      let filled = 0;
      let done = false;
      while (filled < chunkSize) {
        const r = await byob.read(new Uint8Array(buffer, filled, chunkSize - filled));
        if (r.value) {
          buffer = r.value.buffer as ArrayBuffer;
          filled += r.value.byteLength;
        }
        if (r.done) {
          done = true;
          break;
        }
      }
      if (filled > 0) yield new Uint8Array(buffer, 0, filled);
      if (done) return;
    }
  } finally {
    byob.releaseLock();
  }
}

/** Fallback for streams without BYOB support: coalesce default-reader chunks. */
async function* rechunk(stream: ReadableStream<Uint8Array>, chunkSize: number): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let pending: Uint8Array[] = [];
  let pendingSize = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.byteLength >= chunkSize && pendingSize === 0) {
        yield value;
        continue;
      }
      pending.push(value);
      pendingSize += value.byteLength;
      if (pendingSize >= chunkSize) {
        yield concatBytes(pending, pendingSize);
        pending = [];
        pendingSize = 0;
      }
    }
    if (pendingSize > 0) yield concatBytes(pending, pendingSize);
  } finally {
    reader.releaseLock();
  }
}

const WEBCRYPTO_NAMES: Record<DigestAlgorithm, string> = { sha256: "SHA-256", sha512: "SHA-512" };

/**
 * workerd's native streaming digest (crypto.DigestStream, ~1.4 GB/s) as a core `ContentHash`, for a Verifier.
 * Its state cannot be saved, so it serves bytes that arrive within one request; uploads spanning requests use
 * core's resumable hash. `digest()` ends it.
 */
export class NativeDigest implements ContentHash {
  private readonly stream: DigestStream;
  private readonly writer: WritableStreamDefaultWriter<ArrayBuffer | ArrayBufferView>;
  constructor(readonly algorithm: DigestAlgorithm) {
    this.stream = new crypto.DigestStream(WEBCRYPTO_NAMES[algorithm]);
    this.writer = this.stream.getWriter();
  }
  update(chunk: Uint8Array): Promise<void> {
    return this.writer.write(chunk);
  }
  async digest(): Promise<Digest> {
    await this.writer.close();
    return formatDigest(this.algorithm, new Uint8Array(await this.stream.digest));
  }
}
