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

/** Bytes asked of the source per read when it supports BYOB reads (fetch bodies do). */
const READ_SIZE = 64 * 1024;

/**
 * `source` as a byte stream that fails with `idle()` when a read waits on the source for `ms` without a byte
 * (a stalled upstream: the clock runs only while someone is reading, so a slow client is not the upstream's
 * fault), and with `broken()` when the source fails; the source is cancelled either way. A read is one
 * source read (up to 64 KiB), so a slow but moving body is never cut.
 */
export function idleLimited(
  source: ReadableStream<Uint8Array>,
  ms: number,
  errors: { idle: () => Error; broken: () => Error },
): ReadableStream<Uint8Array> {
  const reader = readerOf(source);
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      let timedOut = false;
      const idle = () => {
        timedOut = true;
        return errors.idle();
      };
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await within(reader.read(), ms, idle);
      } catch (e) {
        const error = timedOut ? (e as Error) : errors.broken();
        controller.error(error);
        await reader.cancel(error);
        return;
      }
      if (result.done) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      if (result.value.byteLength > 0) controller.enqueue(result.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Reads of `source`: BYOB where it allows them (workerd hands a default reader small chunks), else default. */
function readerOf(source: ReadableStream<Uint8Array>) {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = source.getReader({ mode: "byob" });
  } catch {
    const plain = source.getReader();
    return { read: () => plain.read(), cancel: (reason: unknown) => plain.cancel(reason).catch(() => undefined) };
  }
  return { read: () => byob.read(new Uint8Array(READ_SIZE)), cancel: (reason: unknown) => byob.cancel(reason).catch(() => undefined) };
}
