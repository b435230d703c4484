/**
 * Reading a whole body of bounded size, and joining chunks: one version for every worker and package (the
 * registry's manifest PUT, the auth service's forms, the mirror's upstream manifests, storage's rechunking).
 */

/** Joins chunks into one array of `total` bytes (the chunk itself when there is only one of that size). */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.byteLength === total) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Reads the body of a request or response whole when it holds at most `limit` bytes. Returns null when it is
 * larger: a `Content-Length` over the limit is refused before reading anything, and a body that grows past the
 * limit stops being read there. The reader is released, not cancelled, so `drainUnread` can still drain the rest
 * (a cancelled request body makes workerd reset the connection). No body → empty bytes. Throws only what the
 * body's stream throws.
 */
export async function readBounded(message: Pick<Request, "headers" | "body">, limit: number): Promise<Uint8Array | null> {
  const declared = message.headers.get("Content-Length");
  if (declared !== null && Number(declared) > limit) return null;
  if (!message.body) return new Uint8Array(0);
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      reader.releaseLock();
      return null;
    }
    chunks.push(value);
  }
  return concatBytes(chunks, total);
}
