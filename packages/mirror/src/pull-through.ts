import {
  digestAlgorithm,
  digestOf,
  OciError,
  parseDigest,
  parseManifest,
  type Descriptor,
  type Digest,
  type RepositoryName,
  type Tag,
} from "@registry/core";
import {
  NativeDigest,
  readChunks,
  type BlobContent,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type ManifestContent,
  type ManifestInfo,
  type ManifestRef,
  type ManifestStore,
  type Page,
  type RegistryStores,
  type UploadStore,
} from "@registry/storage";
import type { BlobFills } from "./blob-fills";
import { UpstreamError, type UpstreamClient } from "./upstream-client";

export interface PullThroughOptions {
  /** The mirror's own stores: the cache. */
  local: RegistryStores;
  upstream: UpstreamClient;
  /** The local (cache) repository for a repository as clients name it. */
  cacheName: (repository: RepositoryName) => RepositoryName;
  /** How long a cached tag is served before it is revalidated upstream with a HEAD. */
  tagTtlMs: number;
  /** Keeps a cache fill running after the response has been returned. */
  waitUntil: (work: Promise<unknown>) => void;
  /** Fill leases across isolates (one upstream fetch per blob); without it, per isolate only. */
  fills?: DurableObjectNamespace<BlobFills>;
}

/** How long one fill may hold its lease, and how long another request waits for it before fetching itself. */
const FILL_LEASE_MS = 10 * 60_000;
const FOLLOWER_WAIT_MS = 30_000;
const FOLLOWER_POLL_MS = 250;

/** Blob fills under way in this isolate: concurrent misses for one blob share one upstream fetch. */
const fills = new Map<string, Promise<void>>();

/**
 * The read side of the registry over a cache that fills itself from an upstream registry (distribution's
 * "proxy" blob and manifest stores). Content by digest is immutable: stored the first time, then served
 * locally. Tags are served from the cache for `tagTtlMs`, then revalidated with a HEAD upstream; when the
 * upstream is down or rate-limits us, a cached tag is served stale. Writes are not supported.
 */
export function pullThroughStores(options: PullThroughOptions): RegistryStores {
  return { manifests: new PullThroughManifests(options), blobs: new PullThroughBlobs(options), uploads: noUploads };
}

class PullThroughManifests implements ManifestStore {
  constructor(private readonly o: PullThroughOptions) {}

  async get(repository: RepositoryName, ref: ManifestRef): Promise<ManifestContent | null> {
    const cache = this.o.cacheName(repository);
    if (ref.kind === "digest") return this.byDigest(repository, ref.digest);
    const cached = await this.o.local.manifests.get(cache, ref);
    if (cached && Date.now() - (cached.taggedAt ?? 0) < this.o.tagTtlMs) return cached;
    let upstreamDigest: string | null;
    try {
      upstreamDigest = await this.o.upstream.resolveTag(repository, ref.tag);
    } catch (e) {
      if (e instanceof UpstreamError) {
        if (cached) return cached; // stale beats failing while the upstream is down or limiting us
        throw e.toOciError();
      }
      throw e;
    }
    if (!upstreamDigest) return null;
    if (cached && cached.digest === upstreamDigest) {
      await this.o.local.manifests.confirmTag(cache, ref.tag, cached.digest);
      return cached;
    }
    const fresh = await this.byDigest(repository, parseDigest(upstreamDigest));
    if (!fresh) return null;
    await this.o.local.manifests.put(cache, fresh, ref.tag);
    return fresh;
  }

  async stat(repository: RepositoryName, ref: ManifestRef): Promise<ManifestInfo | null> {
    const found = await this.get(repository, ref);
    return found ? { digest: found.digest, mediaType: found.mediaType, size: found.size } : null;
  }

  /** A manifest by digest: from the cache, else fetched, verified and cached. */
  private async byDigest(repository: RepositoryName, digest: Digest): Promise<ManifestContent | null> {
    const cache = this.o.cacheName(repository);
    const cached = await this.o.local.manifests.get(cache, { kind: "digest", digest });
    if (cached) return cached;
    let fetched: { bytes: Uint8Array; mediaType: string } | null;
    try {
      fetched = await this.o.upstream.getManifest(repository, digest);
    } catch (e) {
      throw e instanceof UpstreamError ? e.toOciError() : e;
    }
    if (!fetched) return null;
    const actual = await digestOf(digestAlgorithm(digest), fetched.bytes);
    if (actual !== digest) {
      throw new OciError("UNSUPPORTED", { status: 502, detail: `upstream sent a manifest whose digest is ${actual}, not ${digest}` });
    }
    let manifest;
    try {
      manifest = parseManifest(fetched.bytes, fetched.mediaType || null);
    } catch (e) {
      throw new OciError("UNSUPPORTED", { status: 502, detail: `upstream manifest not supported: ${String(e instanceof OciError ? e.detail : e)}` });
    }
    const content: ManifestContent = { digest, mediaType: manifest.mediaType, size: fetched.bytes.byteLength, bytes: fetched.bytes };
    await this.o.local.manifests.put(cache, content);
    return content;
  }

  has(repository: RepositoryName, digest: Digest): Promise<boolean> {
    return this.o.local.manifests.has(this.o.cacheName(repository), digest);
  }

  async listTags(repository: RepositoryName, n: number, last?: string): Promise<Page<string> | null> {
    const query = `?n=${n}${last ? `&last=${encodeURIComponent(last)}` : ""}`;
    try {
      const res = await this.o.upstream.listTags(repository, query);
      if (!res) return null;
      const body = (await res.json()) as { tags?: string[] | null };
      return { items: (body.tags ?? []).slice(0, n), more: res.headers.has("Link") };
    } catch (e) {
      throw e instanceof UpstreamError ? e.toOciError() : e;
    }
  }

  listReferrers(repository: RepositoryName, digest: Digest, n: number, last?: string): Promise<Page<Descriptor>> {
    return this.o.local.manifests.listReferrers(this.o.cacheName(repository), digest, n, last);
  }

  listRepositories(n: number, last?: string): Promise<Page<string>> {
    return this.o.local.manifests.listRepositories(n, last);
  }

  put(): Promise<void> {
    throw readOnly();
  }
  confirmTag(): Promise<void> {
    throw readOnly();
  }
  deleteTag(_r: RepositoryName, _t: Tag): Promise<boolean> {
    throw readOnly();
  }
  deleteManifest(): Promise<boolean> {
    throw readOnly();
  }
}

class PullThroughBlobs implements BlobStore {
  constructor(private readonly o: PullThroughOptions) {}

  async stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null> {
    const cached = await this.o.local.blobs.stat(this.o.cacheName(repository), digest);
    if (cached) return cached;
    try {
      const size = await this.o.upstream.headBlob(repository, digest);
      return size === null ? null : { digest, size };
    } catch (e) {
      throw e instanceof UpstreamError ? e.toOciError() : e;
    }
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
      await pending.catch(() => undefined);
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
    const res = await this.upstreamBlob(repository, digest).catch(async (e: unknown) => {
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
    const streams = fillFirst ? { client: undefined, fill: res.body } : this.fanOut(res.body, digest, size);
    const filling = this.o.local.uploads
      .putBlob(cache, digest, size === undefined ? { stream: streams.fill } : { stream: streams.fill, length: size })
      .then(() => undefined);
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

  private async upstreamBlob(repository: RepositoryName, digest: Digest): Promise<Response | null> {
    try {
      return await this.o.upstream.getBlob(repository, digest);
    } catch (e) {
      throw e instanceof UpstreamError ? e.toOciError() : e;
    }
  }

  /**
   * Streams upstream bytes to the client and into the cache at once, at the pace of the slower of the two
   * (constant memory for any size). The digest is computed on the way; the last chunk reaches the client
   * only once it matches, so a corrupt or truncated upstream response fails for the client instead of
   * arriving as good — and the cache side (putBlob) rejects it too, so nothing is cached.
   */
  private fanOut(source: ReadableStream<Uint8Array>, digest: Digest, size?: number) {
    const toClient = size === undefined ? new TransformStream<Uint8Array, Uint8Array>() : new FixedLengthStream(size);
    const toCache = new TransformStream<Uint8Array, Uint8Array>();
    const clientWriter = toClient.writable.getWriter();
    const cacheWriter = toCache.writable.getWriter();
    let clientGone = false;
    const sendToClient = async (chunk: Uint8Array) => {
      if (clientGone) return;
      await clientWriter.write(chunk).catch(() => {
        clientGone = true;
      });
    };
    const pump = async () => {
      const hash = new NativeDigest(digestAlgorithm(digest));
      let held: Uint8Array | undefined;
      let received = 0;
      try {
        // 1 MiB reads: per-chunk costs (three awaits, two stream writes) stay small against the bytes moved.
        for await (const value of readChunks(source)) {
          received += value.byteLength;
          await hash.update(value);
          const previous = held;
          held = value;
          await Promise.all([previous ? sendToClient(previous) : undefined, cacheWriter.write(value)]);
        }
        await cacheWriter.close();
        const actual = await hash.digest();
        if (actual !== digest || (size !== undefined && received !== size)) {
          throw new Error(`upstream blob ${digest} arrived as ${actual} (${received} bytes)`);
        }
        if (held) await sendToClient(held);
        if (!clientGone) await clientWriter.close();
      } catch (e) {
        await cacheWriter.abort(e).catch(() => undefined);
        await clientWriter.abort(e).catch(() => undefined);
      }
    };
    this.o.waitUntil(pump());
    return { client: toClient.readable, fill: toCache.readable };
  }
}

const noUploads: UploadStore = {
  start: () => Promise.reject(readOnly()),
  status: () => Promise.reject(readOnly()),
  append: () => Promise.reject(readOnly()),
  finish: () => Promise.reject(readOnly()),
  cancel: () => Promise.reject(readOnly()),
  putBlob: () => Promise.reject(readOnly()),
};

function readOnly(): OciError {
  return new OciError("UNSUPPORTED", { detail: "this mirror is read-only" });
}
