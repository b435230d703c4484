import { OciError } from "@registry/core";
import type { RouteMiddleware } from "./routes";

/**
 * Cloudflare refuses request bodies over the plan's limit at the edge (100 MB Free/Pro, 200 MB Business, 500 MB
 * Enterprise) with a 413 the worker never sees; docker and containerd push each layer in one request, so a big
 * layer cannot be pushed that way. `MAX_REQUEST_BODY` makes the registry enforce the same limit itself (locally
 * too, so a local run fails like production) and advertise it to clients that can push in chunks.
 */

/** Bytes read from the request body per step (BYOB, like storage's reads). */
const READ_SIZE = 1024 * 1024;

/**
 * Parses the `MAX_REQUEST_BODY` var: undefined when unset or empty (no limit); a positive integer of bytes
 * otherwise. Throws on anything else: a mistyped limit must not silently become no limit.
 */
export function parseBodyLimit(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) {
    throw new Error(`MAX_REQUEST_BODY must be a number of bytes (or empty for no limit), not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/**
 * 413 SIZE_INVALID for a body over `limit` bytes (`length` when the client declared it), its message naming the
 * limit and the remedy. Spec: distribution-spec §"Pushing a blob in chunks" (chunks of a size the registry takes).
 */
export function bodyTooLarge(limit: number, length?: number): OciError {
  const what = length === undefined ? "the request body is larger than" : `a request body of ${length} bytes is over`;
  return new OciError("tooLarge", {
    message:
      `${what} this registry's limit of ${limit} bytes: push large layers in chunks of at most ${limit} bytes ` +
      "(PATCH with Content-Range, as `pnpm push` or regctl do; docker and containerd push a layer in one request and cannot)",
    detail: { limit, ...(length === undefined ? {} : { length }) },
  });
}

/**
 * The request body limit as /v2 middleware: a write (POST, PATCH, PUT) whose `Content-Length` is over `limit`
 * is refused before anything is read; a body without a length (chunked transfer, as docker and containerd send a
 * PATCH) is counted as it streams and fails with the same 413 once it passes the limit — storage then records
 * nothing of it, so an upload session stays at its last good offset. The POST that opens a session advertises
 * the limit as `OCI-Chunk-Max-Length` (spec §"Pushing a blob in chunks").
 */
export function bodyLimit(limit: number): RouteMiddleware {
  return async (matched, next) => {
    const { request, route } = matched;
    if (route.method === "POST" || route.method === "PATCH" || route.method === "PUT") {
      const declared = request.headers.get("Content-Length");
      if (declared !== null && Number(declared) > limit) throw bodyTooLarge(limit, Number(declared));
      if (declared === null && request.body) {
        matched.request = new Request(request, { body: limitedStream(request.body, limit) });
      }
    }
    const response = await next();
    if (route.method === "POST" && response.status === 202) response.headers.set("OCI-Chunk-Max-Length", String(limit));
    return response;
  };
}

/**
 * `body`, passed on as a byte stream (BYOB readers keep working) that errors with `bodyTooLarge` once more than
 * `limit` bytes came through. At that point the source's reader is released, not cancelled, so the app's
 * `drainUnread` can drain the rest (a cancelled request body makes workerd reset the connection).
 */
function limitedStream(body: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  let byob: ReadableStreamBYOBReader | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    reader = body.getReader();
  }
  let buffer = new ArrayBuffer(READ_SIZE);
  let seen = 0;
  const read = async (): Promise<Uint8Array | undefined> => {
    if (!byob) {
      const r = await reader!.read();
      return r.done ? undefined : r.value;
    }
    const r = await byob.read(new Uint8Array(buffer));
    if (!r.value) return undefined;
    buffer = r.value.buffer as ArrayBuffer;
    return r.done ? undefined : r.value.slice();
  };
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      let chunk: Uint8Array | undefined;
      do chunk = await read();
      while (chunk?.byteLength === 0);
      if (!chunk) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      seen += chunk.byteLength;
      if (seen > limit) {
        (byob ?? reader)!.releaseLock();
        controller.error(bodyTooLarge(limit));
        return;
      }
      controller.enqueue(chunk);
    },
    cancel(reason) {
      return (byob ?? reader)!.cancel(reason);
    },
  });
}
