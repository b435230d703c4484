import { isOciError, type Digest, type RepositoryName } from "@registry/core";
import type { BlobContent, BlobInfo, BlobStore, ByteRange } from "@registry/storage";
import type { PullThroughOptions } from "./pull-through";
import { readOnly } from "./read-only";
import { UpstreamError } from "./upstream-error";
import { verifiedTee } from "./verified-tee";

/** How long one fill may hold its lease, and how long another request waits for it before fetching itself. */
const FILL_LEASE_MS = 10 * 60_000;
const FOLLOWER_WAIT_MS = 30_000;
const FOLLOWER_POLL_MS = 250;

/** Blob fills under way in this isolate: concurrent misses for one blob share one upstream fetch. */
const fills = new Map<string, Promise<void>>();

/** Blobs through the cache (see pullThroughStores): one upstream fetch per blob, verified before it is kept. */
export class PullThroughBlobs implements BlobStore {
  constructor(private readonly o: PullThroughOptions) {}

  async stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null> {
    const cached = await this.o.local.blobs.stat(this.o.cacheName(repository), digest);
    if (cached) return cached;
    const size = await this.o.upstream.headBlob(repository, digest);
    return size === null ? null : { digest, size };
  }

  async get(
    repository: RepositoryName,
    digest: Digest,
    range?: (size: number) => ByteRange | undefined,
  ): Promise<BlobContent | null> {
    const cache = this.o.cacheName(repository);
    const cached = await this.o.local.blobs.get(cache, digest, range);
    if (cached) return cached;
    const key = `${cache}@${digest}`;
    const pending = fills.get(key);
    if (pending) {
      // The same fill's upstream failure, rather than a 404 for a blob that only failed to arrive.
      await pending.catch((e: unknown) => {
        if (e instanceof UpstreamError) throw e;
      });
      return this.o.local.blobs.get(cache, digest, range);
    }
    const lease = this.o.fills?.get(this.o.fills.idFromName(key));
    if (lease && !(await lease.claim(FILL_LEASE_MS))) {
      // Another isolate is fetching this blob: wait for its fill rather than fetching it again.
      const deadline = Date.now() + FOLLOWER_WAIT_MS;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, FOLLOWER_POLL_MS));
        const filled = await this.o.local.blobs.get(cache, digest, range);
        if (filled) return filled;
      }
    }
    const res = await this.o.upstream.getBlob(repository, digest).catch(async (e: unknown) => {
      await lease?.release();
      throw e;
    });
    if (!res?.body) {
      await lease?.release();
      return null;
    }
    const lengthHeader = res.headers.get("Content-Length");
    const size = lengthHeader === null ? undefined : Number(lengthHeader);
    // A range of a blob not cached yet, or a length the upstream did not say: fill first, serve from the cache.
    const fillFirst = size === undefined || range?.(size) !== undefined;
    const mismatch = (actual: string, received: number) => this.corrupt(digest, `${received} bytes hashing to ${actual}`);
    const streams = fillFirst ? { client: undefined, fill: res.body } : verifiedTee(res.body, digest, size, this.o.waitUntil, mismatch);
    const filling = this.o.local.uploads
      .putBlob(cache, digest, size === undefined ? { stream: streams.fill } : { stream: streams.fill, length: size })
      .then(
        () => undefined,
        (e: unknown) => Promise.reject(this.fillFailure(e, digest)),
      );
    fills.set(key, filling);
    const done = filling.finally(async () => {
      fills.delete(key);
      await lease?.release();
    });
    this.o.waitUntil(done.catch(() => undefined));
    if (!streams.client || size === undefined) {
      await done;
      return this.o.local.blobs.get(cache, digest, range);
    }
    return { digest, size, body: streams.client };
  }

  delete(): Promise<boolean> {
    throw readOnly();
  }
  mount(): Promise<BlobInfo | null> {
    throw readOnly();
  }

  /** Why a fill failed, for the client: the upstream's failure, or the cache's refusal of its content. */
  private fillFailure(e: unknown, digest: Digest): unknown {
    if (e instanceof UpstreamError) return e;
    if (isOciError(e) && (e.code === "DIGEST_INVALID" || e.code === "SIZE_INVALID")) return this.corrupt(digest, "other bytes");
    return e;
  }

  private corrupt(digest: Digest, what: string): UpstreamError {
    return new UpstreamError(this.o.upstream.upstream, { kind: "invalid", reason: `${what} for blob ${digest}` });
  }
}
