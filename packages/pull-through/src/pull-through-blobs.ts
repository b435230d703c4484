import { isOciError, OciError, type Digest, type RepositoryName } from "@registry/core";
import type { BlobFills } from "./blob-fills";
import type { BlobInfo, BlobReader, ByteRange, OpenBlob } from "@registry/storage";
import type { PullThroughOptions } from "./pull-through";
import { UpstreamError } from "./upstream-error";
import { verifiedTee } from "./verified-tee";

/** How long one fill may hold its lease, and how long another request waits for it before fetching itself. */
const FILL_LEASE_MS = 10 * 60_000;
const FOLLOWER_WAIT_MS = 30_000;
const FOLLOWER_POLL_MS = 250;

/** Blob fills under way in this isolate: concurrent misses for one blob share one upstream fetch. */
const fills = new Map<string, Promise<void>>();

/** An upstream blob GET not read yet: where it goes in the cache, its lease, its body and announced size. */
interface Fetched {
  cache: RepositoryName;
  digest: Digest;
  key: string;
  lease: DurableObjectStub<BlobFills> | undefined;
  body: ReadableStream<Uint8Array>;
  size: number | undefined;
}

/**
 * Blobs through the cache (see pullThroughStores), the read role only: one upstream fetch per blob, verified
 * before it is kept.
 */
export class PullThroughBlobs implements BlobReader {
  constructor(private readonly o: PullThroughOptions) {}

  async stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null> {
    const cached = await this.o.local.blobs.stat(this.o.cacheName(repository), digest);
    if (cached) return cached;
    const size = await this.o.upstream.headBlob(repository, digest);
    return size === null ? null : { digest, size };
  }

  /**
   * The cached blob, else the upstream's answer (one GET, its lease held): its bytes are read once, through
   * `read`, which fills the cache on the way — or, for a range, fills first and reads the range from the cache.
   */
  async open(repository: RepositoryName, digest: Digest): Promise<OpenBlob | null> {
    const cache = this.o.cacheName(repository);
    const cached = await this.o.local.blobs.open(cache, digest);
    if (cached) return cached;
    const key = `${cache}@${digest}`;
    const pending = fills.get(key);
    if (pending) {
      // The same fill's upstream failure, rather than a 404 for a blob that only failed to arrive.
      await pending.catch((e: unknown) => {
        if (e instanceof UpstreamError) throw e;
      });
      return this.o.local.blobs.open(cache, digest);
    }
    const lease = this.o.fills?.get(this.o.fills.idFromName(key));
    if (lease && !(await lease.claim(FILL_LEASE_MS))) {
      // Another isolate is fetching this blob: wait for its fill rather than fetching it again.
      const deadline = Date.now() + FOLLOWER_WAIT_MS;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, FOLLOWER_POLL_MS));
        const filled = await this.o.local.blobs.open(cache, digest);
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
    const fetched: Fetched = { cache, digest, key, lease, body: res.body, size };
    if (size === undefined) {
      // A length the upstream did not say: fill first, serve from the cache.
      await this.fill(fetched, false).done;
      return this.o.local.blobs.open(cache, digest);
    }
    return { digest, size, read: (range) => this.read(fetched, range) };
  }

  /** Bytes of a blob fetched from upstream: all of it as it streams into the cache, or a range once cached. */
  private async read(fetched: Fetched, range: ByteRange | undefined): Promise<ReadableStream<Uint8Array>> {
    const { client, done } = this.fill(fetched, range === undefined);
    if (client) return client;
    // A range of a blob not cached yet: fill first, serve from the cache.
    await done;
    const filled = await this.o.local.blobs.open(fetched.cache, fetched.digest);
    if (!filled) throw new OciError("BLOB_UNKNOWN", { detail: { digest: fetched.digest } });
    return filled.read(range);
  }

  /** Starts the cache fill of an upstream body; with `tee`, also a verified copy for the client. */
  private fill(f: Fetched, tee: boolean): { client?: ReadableStream<Uint8Array>; done: Promise<void> } {
    const { cache, digest, key, lease, size } = f;
    const streams = tee && size !== undefined ? verifiedTee(f.body, digest, size, this.o.waitUntil) : { client: undefined, fill: f.body };
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
    return streams.client ? { client: streams.client, done } : { done };
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
