// One blob into a registry in chunks (OCI distribution spec §"Pushing a blob in chunks"): HEAD first (a blob the
// repository has is skipped), POST for a session, PATCHes of at most the registry's OCI-Chunk-Max-Length streamed
// from the file (constant memory), PUT ?digest= to finish. A chunk that fails is retried with backoff from the
// offset the registry reports (GET on the session); the session and confirmed offset are kept in a state file so
// that a rerun after a crash resumes without sending again what the registry stored.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { errorOf, RegistryError } from "./registry.mjs";
import { UploadState } from "./state.mjs";

/** Chunk size when the registry advertises no OCI-Chunk-Max-Length: below every Cloudflare plan's body limit. */
export const DEFAULT_CHUNK = 64 * 1024 * 1024;

/**
 * @typedef {{ digest: string, size: number, file: string, start?: number }} BlobSource  bytes `start`…`start+size`
 *   of `file` (a tarball member, or a whole file)
 * @typedef {{ digest: string, size: number, sent: number, skipped: number, resumed: number }} BlobResult
 *   sent: bytes sent in PATCHes (retries included); skipped: the size, when the registry had the blob;
 *   resumed: bytes a previous run had stored and this one did not send again
 * @typedef {{ skipped(): void, resumed(offset: number): void, sending(bytes: number): void,
 *   stored(offset: number): void, retrying(error: Error, wait: number): void, done(): void }} BlobProgress
 * @typedef {{ chunkSize?: number, stateDir: string, retries?: number, progress?: BlobProgress }} UploadOptions
 */

const quiet = { skipped() {}, resumed() {}, sending() {}, stored() {}, retrying() {}, done() {} };

/**
 * Pushes one blob to `registry` (a Registry of push.mjs's client) unless it is there already.
 * @param {import("./registry.mjs").Registry} registry
 * @param {BlobSource} blob
 * @param {UploadOptions} options
 * @returns {Promise<BlobResult>}
 * @throws RegistryError with the registry's message when it refuses, Error after `retries` failed attempts
 */
export async function pushBlob(registry, blob, { chunkSize, stateDir, retries = 6, progress = quiet }) {
  const result = { digest: blob.digest, size: blob.size, sent: 0, skipped: 0, resumed: 0 };
  const head = await registry.fetch("HEAD", `blobs/${blob.digest}`);
  if (head.status === 200) {
    result.skipped = blob.size;
    progress.skipped();
    return result;
  }
  const state = new UploadState(stateDir, registry.base, registry.repository, blob.digest);
  let session = await resumeSession(registry, state);
  if (session) {
    result.resumed = session.offset;
    progress.resumed(session.offset);
  } else {
    session = await openSession(registry);
    state.save(session.location, 0, session.chunk);
  }
  const chunk = chunkSize ?? session.chunk;
  let failures = 0;
  while (session.offset < blob.size) {
    const end = Math.min(blob.size, session.offset + chunk);
    try {
      const res = await sendChunk(registry, blob, session, end, (n) => {
        result.sent += n;
        progress.sending(n);
      });
      if (res.status === 202 && rangeEnd(res.headers.get("Range"), end) === end) {
        session = { ...session, location: res.headers.get("Location") ?? session.location, offset: end };
        state.save(session.location, end, session.chunk);
        progress.stored(end);
        failures = 0;
        continue;
      }
      const error = await errorOf(`PATCH ${blob.digest.slice(0, 19)}… bytes ${session.offset}-${end - 1}`, res);
      if (res.status === 413 || res.status === 403 || res.status === 400) throw Object.assign(error, { fatal: true });
      throw error;
    } catch (e) {
      if (e.fatal || ++failures > retries) throw e;
      const wait = Math.min(30_000, 500 * 2 ** (failures - 1));
      progress.retrying(e, wait);
      await sleep(wait);
      // Where the registry stands (unreachable: try the same offset again); a session it forgot starts over.
      const status = await sessionStatus(registry, session).catch(() => session);
      session = status ?? (await openSession(registry));
      state.save(session.location, session.offset, session.chunk);
      progress.stored(session.offset);
    }
  }
  const finish = new URL(registry.url(session.location));
  finish.searchParams.set("digest", blob.digest);
  const done = await registry.ok("PUT", finish.href, [201], { headers: { "Content-Length": "0" } });
  const stored = done.headers.get("Docker-Content-Digest");
  if (stored && stored !== blob.digest) throw new Error(`the registry stored ${stored} for ${blob.digest}`);
  state.clear();
  progress.done();
  return result;
}

/**
 * A new session: its Location and the chunk size the registry asks for — its OCI-Chunk-Max-Length, raised to its
 * OCI-Chunk-Min-Length when that is larger (and allowed), else DEFAULT_CHUNK. (Kept in the state file: a rerun
 * without --chunk-size goes on with what the registry asked for.)
 */
async function openSession(registry) {
  const res = await registry.ok("POST", "blobs/uploads/", [202], { headers: { "Content-Length": "0" } });
  const location = res.headers.get("Location");
  if (!location) throw new Error("the registry opened an upload without a Location");
  const max = Number(res.headers.get("OCI-Chunk-Max-Length")) || undefined;
  const min = Number(res.headers.get("OCI-Chunk-Min-Length")) || undefined;
  let chunk = max ?? DEFAULT_CHUNK;
  if (min !== undefined && min > chunk && (max === undefined || min <= max)) chunk = min;
  return { location, offset: 0, chunk };
}

/** The session a previous run left (state file), at the offset the registry now reports; undefined if none. */
async function resumeSession(registry, state) {
  const saved = state.load();
  if (!saved) return undefined;
  const session = await sessionStatus(registry, { location: saved.location, offset: saved.offset, chunk: saved.chunk ?? DEFAULT_CHUNK });
  if (!session) state.clear();
  return session;
}

/** GET on the session: its offset (from `Range`) and next Location; undefined when the registry forgot it. */
async function sessionStatus(registry, session) {
  const res = await registry.fetch("GET", session.location);
  await res.arrayBuffer().catch(() => undefined);
  if (res.status === 404) return undefined;
  if (res.status !== 204 && res.status !== 202) throw new RegistryError(`GET upload status`, res.status, undefined);
  return { ...session, location: res.headers.get("Location") ?? session.location, offset: rangeEnd(res.headers.get("Range"), session.offset) };
}

/**
 * The offset after a `Range: 0-<last>` answer. "0-0" means one byte or none (registries write it for an empty
 * session too): `expected` decides.
 */
function rangeEnd(header, expected) {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(header?.trim() ?? "");
  if (!m) return 0;
  const last = Number(m[1]);
  return last === 0 && expected === 0 ? 0 : last + 1;
}

/** PATCHes bytes `session.offset`…`end` of the blob, streamed from its file; `count` is told each piece sent. */
function sendChunk(registry, blob, session, end, count) {
  const start = (blob.start ?? 0) + session.offset;
  const file = createReadStream(blob.file, { start, end: (blob.start ?? 0) + end - 1, highWaterMark: 1024 * 1024 });
  const body = Readable.toWeb(file).pipeThrough(
    new TransformStream({
      transform(piece, controller) {
        count(piece.byteLength);
        controller.enqueue(piece);
      },
    }),
  );
  return registry.fetch("PATCH", session.location, {
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Range": `${session.offset}-${end - 1}`,
      "Content-Length": String(end - session.offset),
    },
    body,
  });
}
