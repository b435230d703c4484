import { digestAlgorithm, type Digest } from "@registry/core";
import { NativeDigest, readChunks } from "@registry/storage";

/**
 * Streams upstream bytes to the client and into the cache at once, at the pace of the slower of the two
 * (constant memory for any size). The digest is computed on the way; the last chunk reaches the client
 * only once it matches, so a corrupt or truncated upstream response fails for the client instead of
 * arriving as good — and the cache side is aborted too, so nothing is cached. A source that fails (an
 * upstream that stalls or drops the connection) aborts both sides with its error: a client that already
 * has the headers can only be cut off.
 */
export function verifiedTee(
  source: ReadableStream<Uint8Array>,
  digest: Digest,
  size: number,
  waitUntil: (work: Promise<unknown>) => void,
  mismatch: (actual: string, received: number) => Error,
): { client: ReadableStream<Uint8Array>; fill: ReadableStream<Uint8Array> } {
  const toClient = new FixedLengthStream(size);
  const toCache = new TransformStream<Uint8Array, Uint8Array>();
  const clientWriter = toClient.writable.getWriter();
  const cacheWriter = toCache.writable.getWriter();
  let clientGone = false;
  const sendToClient = async (chunk: Uint8Array) => {
    if (clientGone) return;
    await clientWriter.write(chunk).catch(() => {
      clientGone = true;
    });
  };
  const pump = async () => {
    const hash = new NativeDigest(digestAlgorithm(digest));
    let held: Uint8Array | undefined;
    let received = 0;
    try {
      // 1 MiB reads: per-chunk costs (three awaits, two stream writes) stay small against the bytes moved.
      for await (const value of readChunks(source)) {
        received += value.byteLength;
        await hash.update(value);
        const previous = held;
        held = value;
        await Promise.all([previous ? sendToClient(previous) : undefined, cacheWriter.write(value)]);
      }
      const actual = await hash.digest();
      if (actual !== digest || received !== size) throw mismatch(actual, received);
      await cacheWriter.close();
      if (held) await sendToClient(held);
      if (!clientGone) await clientWriter.close();
    } catch (e) {
      await cacheWriter.abort(e).catch(() => undefined);
      await clientWriter.abort(e).catch(() => undefined);
    }
  };
  waitUntil(pump());
  return { client: toClient.readable, fill: toCache.readable };
}
