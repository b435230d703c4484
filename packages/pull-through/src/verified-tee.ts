import { digestAlgorithm, Verifier, type Digest } from "@registry/core";
import { NativeDigest, readChunks } from "@registry/storage";

/**
 * Streams upstream bytes to the client and into the cache at once, at the pace of the slower of the two
 * (constant memory for any size), through core's Verifier (hashed natively on the way): the last chunk reaches
 * either side only once digest and size match, so a corrupt or truncated upstream response fails for the client
 * instead of arriving as good, and the cache side is aborted with the verifier's `DIGEST_INVALID` /
 * `SIZE_INVALID`, so nothing is cached. A source that fails (an upstream that stalls or drops the connection)
 * aborts both sides with its error: a client that already has the headers can only be cut off.
 */
export function verifiedTee(
  source: ReadableStream<Uint8Array>,
  digest: Digest,
  size: number,
  waitUntil: (work: Promise<unknown>) => void,
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
    const verifier = new Verifier({ digest, size }, [new NativeDigest(digestAlgorithm(digest))]);
    try {
      // 1 MiB reads: per-chunk costs (three awaits, two stream writes) stay small against the bytes moved.
      for await (const chunk of verifier.through(readChunks(source))) {
        await Promise.all([sendToClient(chunk), cacheWriter.write(chunk)]);
      }
      await cacheWriter.close();
      if (!clientGone) await clientWriter.close();
    } catch (e) {
      await cacheWriter.abort(e).catch(() => undefined);
      await clientWriter.abort(e).catch(() => undefined);
    }
  };
  waitUntil(pump());
  return { client: toClient.readable, fill: toCache.readable };
}
