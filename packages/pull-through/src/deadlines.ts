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

/**
 * `source` as a byte stream that fails with `idle()` when a read waits on the source for `ms` without a byte
 * (a stalled upstream: the clock runs only while someone is reading, so a slow client is not the upstream's
 * fault), and with `broken()` when the source fails; the source is cancelled either way. Each read is one
 * read of the source, so a slow but moving body is never cut. A BYOB source is read straight into the
 * consumer's buffer (no copy: a 1 MiB reader moves ~1 GB/s through it here).
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
        result = await within(reader.read(request?.view ?? null), ms, idle);
      } catch (e) {
        const error = timedOut ? (e as Error) : errors.broken();
        controller.error(error);
        await reader.cancel(error);
        return;
      }
      if (result.done) {
        controller.close();
        // A BYOB source gives the (emptied) buffer of the view it was handed back; the consumer's read ends with it.
        const last = result.value as Uint8Array | undefined;
        if (last) request?.respondWithNewView(last);
        else request?.respond(0);
        return;
      }
      if (reader.byob && request) request.respondWithNewView(result.value);
      else controller.enqueue(result.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * Reads of `source`: BYOB into the given view where the source allows it (fetch bodies do; workerd hands a
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
    read: (view: ArrayBufferView | null) =>
      byob.read(view ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : new Uint8Array(AUTO_CHUNK)),
    cancel: (reason: unknown) => byob.cancel(reason).catch(() => undefined),
  };
}
