/**
 * Time limits on upstream I/O. A request to an upstream that never answers, or a body that stops arriving,
 * would otherwise hold the client (and a blob fill) forever: the platform puts no limit on a subrequest's
 * wall-clock time while the client waits.
 */

/** Settles like `pending`, or rejects with `timeout()` if `pending` has not settled after `ms`. */
export function within<T>(pending: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer!: ReturnType<typeof setTimeout>;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  return Promise.race([pending, expired]).finally(() => clearTimeout(timer));
}

/** The buffer a read by a consumer without its own buffer (a default reader) is given. */
const AUTO_CHUNK = 64 * 1024;
/** Bytes asked of a BYOB source per read (each read a fresh buffer: an enqueued chunk's buffer is transferred). */
const SOURCE_CHUNK = 1024 * 1024;

/**
 * `source` as a byte stream that fails with `idle()` when a read waits on the source for `ms` without a byte
 * (a stalled upstream: the clock runs only while someone is reading, so a slow client is not the upstream's
 * fault), and with `broken()` when the source fails; the source is cancelled either way. Each read is one
 * read of the source, so a slow but moving body is never cut. A BYOB source is read in 1 MiB steps into
 * buffers of its own and each chunk is enqueued (copied into a BYOB consumer's view): reading straight into the
 * consumer's buffer fails when the source hands back a buffer of another length ("The underlying ArrayBuffer is
 * not the correct length"), which workerd's fetch bodies do for large blobs.
 */
export function idleLimited(
  source: ReadableStream<Uint8Array>,
  ms: number,
  errors: { idle: () => Error; broken: () => Error },
): ReadableStream<Uint8Array> {
  const reader = readerOf(source);
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: AUTO_CHUNK,
    async pull(controller) {
      const request = controller.byobRequest;
      let timedOut = false;
      const idle = () => {
        timedOut = true;
        return errors.idle();
      };
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        do result = await within(reader.read(), ms, idle);
        while (!result.done && result.value.byteLength === 0);
      } catch (e) {
        const error = timedOut ? (e as Error) : errors.broken();
        controller.error(error);
        await reader.cancel(error);
        return;
      }
      if (result.done) {
        controller.close();
        request?.respond(0);
        return;
      }
      controller.enqueue(result.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * Reads of `source`: BYOB into a fresh 1 MiB buffer where the source allows it (fetch bodies do; workerd hands a
 * default reader small chunks), else the source's own chunks.
 */
function readerOf(source: ReadableStream<Uint8Array>) {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = source.getReader({ mode: "byob" });
  } catch {
    const plain = source.getReader();
    return { byob: false, read: () => plain.read(), cancel: (reason: unknown) => plain.cancel(reason).catch(() => undefined) };
  }
  return {
    byob: true,
    read: () => byob.read(new Uint8Array(SOURCE_CHUNK)),
    cancel: (reason: unknown) => byob.cancel(reason).catch(() => undefined),
  };
}
