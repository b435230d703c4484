/**
 * One blob to the target: skipped when the target has it, mounted from another of its repositories when we know
 * one holds it, else uploaded streaming from the source — whole (POST, then PUT ?digest= with the body) or in
 * chunks (PATCHes of byte ranges, each at least the target's OCI-Chunk-Min-Length, then PUT ?digest=). Memory stays
 * flat for any size: bytes flow from the source's stream to the request body.
 * Spec: distribution-spec "Checking if content exists", "Mounting a blob from another repository", "Pushing a blob
 * monolithically" (POST then PUT), "Pushing a blob in chunks" (OCI-Chunk-Min-Length, Content-Range, Location).
 */
import { BoundedMap, type Descriptor } from "@registry/core";
import { ReplicationError, TargetClient } from "./target-client";
import type { SourceReader } from "./types";

/** Chunk size when the caller gives none: a blob larger than this is sent in chunks of about this size. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;

/**
 * Where a blob was last seen on a target (`<target> <digest>` → repository), so a later copy to another repository
 * of the same target mounts it instead of sending it again. Per isolate, bounded.
 */
const knownBlobs = new BoundedMap<string, string>(10_000);

/** What copying one blob did. */
export type BlobOutcome = { kind: "skipped" } | { kind: "mounted" } | { kind: "copied"; bytes: number };

export interface BlobCopy {
  client: TargetClient;
  source: SourceReader;
  /** The repository on the source and on the target. */
  from: string;
  to: string;
  /** Largest chunk to send (the target's OCI-Chunk-Min-Length/Max-Length bound it); blobs no larger go whole. */
  chunkSize: number;
}

/** Copies one blob if the target lacks it. Throws ReplicationError for any target failure or a blob the source lacks. */
export async function copyBlob(c: BlobCopy, blob: Descriptor): Promise<BlobOutcome> {
  const { client, to } = c;
  const push = [TargetClient.push(to)];
  const memo = `${client.base} ${blob.digest}`;
  const head = await client.send({ method: "HEAD", path: `/v2/${to}/blobs/${blob.digest}`, scopes: push, ok: [200, 404], step: `check blob ${blob.digest} in ${to}` });
  if (head.status === 200) {
    knownBlobs.set(memo, to);
    return { kind: "skipped" };
  }
  let location: string | undefined;
  let chunkHeaders: Headers | undefined;
  const other = knownBlobs.get(memo);
  if (other && other !== to) {
    const mount = await client.send({
      method: "POST",
      path: `/v2/${to}/blobs/uploads/?mount=${blob.digest}&from=${encodeURIComponent(other)}`,
      scopes: [...push, `repository:${other}:pull`],
      body: async () => ({ body: null, length: 0 }),
      ok: [201, 202],
      step: `mount blob ${blob.digest} from ${other} into ${to}`,
    });
    await mount.body?.cancel();
    if (mount.status === 201) {
      knownBlobs.set(memo, to);
      return { kind: "mounted" };
    }
    // 202: the target would not mount (it may not have the blob after all) and opened an upload session instead.
    location = mount.headers.get("Location") ?? undefined;
    chunkHeaders = mount.headers;
  }
  if (!location) {
    const start = await client.send({
      method: "POST",
      path: `/v2/${to}/blobs/uploads/`,
      scopes: push,
      body: async () => ({ body: null, length: 0 }),
      ok: [202],
      step: `start upload of blob ${blob.digest} to ${to}`,
    });
    await start.body?.cancel();
    location = start.headers.get("Location") ?? undefined;
    chunkHeaders = start.headers;
    if (!location) throw new ReplicationError(`start upload of blob ${blob.digest} to ${to}`, `${client.base} sent no Location`);
  }
  const bytes = await upload(c, blob, location, chunkSizeFor(c.chunkSize, chunkHeaders));
  knownBlobs.set(memo, to);
  return { kind: "copied", bytes };
}

/** The chunk size to use: the caller's, raised to the target's OCI-Chunk-Min-Length and lowered to its Max-Length. */
function chunkSizeFor(wanted: number, headers: Headers | undefined): number {
  const min = Number(headers?.get("OCI-Chunk-Min-Length") ?? 0);
  const max = Number(headers?.get("OCI-Chunk-Max-Length") ?? 0);
  let size = Math.max(1, wanted);
  if (Number.isSafeInteger(max) && max > 0) size = Math.min(size, max);
  if (Number.isSafeInteger(min) && min > 0) size = Math.max(size, min);
  return size;
}

/** Sends the blob's bytes to an open upload session and closes it with the digest; returns the bytes sent. */
async function upload(c: BlobCopy, blob: Descriptor, firstLocation: string, chunk: number): Promise<number> {
  const { client, to } = c;
  const scopes = [TargetClient.push(to)];
  const source = await c.source.blob(c.from, blob.digest);
  if (!source) throw new ReplicationError(`read blob ${blob.digest} of ${c.from}`, "the source does not have it");
  const size = source.size;
  const octets = { "Content-Type": "application/octet-stream" };
  let location = firstLocation;
  if (size <= chunk) {
    const res = await client.send({
      method: "PUT",
      path: withDigest(location, blob.digest),
      scopes,
      headers: octets,
      body: async () => ({ body: await source.read(), length: size }),
      ok: [201],
      step: `upload blob ${blob.digest} (${size} bytes) to ${to}`,
    });
    await res.body?.cancel();
    return size;
  }
  for (let offset = 0; offset < size; offset += chunk) {
    const length = Math.min(chunk, size - offset);
    const res = await client.send({
      method: "PATCH",
      path: location,
      scopes,
      headers: { ...octets, "Content-Range": `${offset}-${offset + length - 1}` },
      body: async () => ({ body: await source.read({ offset, length }), length }),
      ok: [202],
      step: `upload bytes ${offset}-${offset + length - 1} of blob ${blob.digest} to ${to}`,
    });
    await res.body?.cancel();
    location = res.headers.get("Location") ?? location;
  }
  const done = await client.send({
    method: "PUT",
    path: withDigest(location, blob.digest),
    scopes,
    body: async () => ({ body: null, length: 0 }),
    ok: [201],
    step: `finish upload of blob ${blob.digest} to ${to}`,
  });
  await done.body?.cancel();
  return size;
}

/** The upload's Location with `digest=` added to whatever query it already has (distribution keeps state there). */
function withDigest(location: string, digest: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
}
