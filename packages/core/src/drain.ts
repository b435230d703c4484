/** Bytes read per step while draining (BYOB: one buffer reused, ~200 MB/s in workerd instead of 4 KiB reads). */
const DRAIN_BUFFER = 1024 * 1024;

/**
 * Reads and drops a request body the handler left unread (an early answer: 401, 404 unknown upload, 416 wrong
 * offset, 400). workerd closes a connection whose request body was not consumed, and closing a socket with
 * unread bytes makes the kernel send a TCP reset: the client loses the answer and its next request on that
 * connection. Draining first lets the connection live on; a handler that stops reading part way (a body over its
limit) releases its reader so the rest is drained here too. Bounded by the platform's request body limit
 * (100–500 MB on Cloudflare); locally by the front's idle timeout. Never throws: a client that went away
 * leaves nothing to drain.
 */
export async function drainUnread(request: Request): Promise<void> {
  const body = request.body;
  if (!body || body.locked) return;
  try {
    if (!(await drainBytes(body))) {
      const reader = body.getReader();
      while (!(await reader.read()).done);
    }
  } catch {
    // the body broke off: the connection is gone anyway
  }
}

/** Drains a byte stream with one reused buffer; false when the stream is not a byte stream. */
async function drainBytes(body: ReadableStream<Uint8Array>): Promise<boolean> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: "byob" });
  } catch {
    return false;
  }
  let buffer = new ArrayBuffer(DRAIN_BUFFER);
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(buffer));
    if (done || !value) return true;
    buffer = value.buffer as ArrayBuffer;
  }
}
