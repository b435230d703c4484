import type { Descriptor, Digest, RepositoryName } from "@registry/core";
import { parseBlobRecord, type BlobRecord } from "./blob-record";
import { edgeKey, type EdgeEntry, type EdgeManifestMeta } from "./edge-keys";
import type { Indexes } from "./indexes";
import type { IsolateCache } from "./isolate-cache";
import { keys } from "./keys";
import type { DoManifestStore } from "./manifest-store";
import type {
  BlobInfo,
  BlobReader,
  ManifestContent,
  ManifestInfo,
  ManifestReader,
  ManifestRef,
  OpenBlob,
  Page,
  ReadStores,
} from "./ports";
import { openRecord } from "./r2-blob-store";
import type { ManifestParents } from "./signature-policy";

/**
 * How stale the edge read path may be: a tag moved (or anything deleted) is seen by every edge read within
 * `stalenessSec` of its commit. The bound is spent in up to three caches, one behind the other:
 * `isolateTtlSec` in an isolate's memory; for content by digest also `coloTtlSec` in the data centre's Cache API
 * (free to read, unlike KV); and KV's own edge cache (`kvCacheTtlSec`, which Cloudflare floors at 30 s: KV
 * propagates a write to other locations as their cached copies expire). Locally KV has no edge cache, so only the
 * isolate's and the Cache API's shares apply.
 */
export interface EdgeTiming {
  stalenessSec: number;
  isolateTtlSec: number;
  coloTtlSec: number;
  kvCacheTtlSec: number;
}

/** KV's floor for `cacheTtl`. */
const KV_MIN_CACHE_TTL = 30;

/** The timing for a staleness bound (default 60 s, KV's own default cache time). */
export function edgeTiming(stalenessSec = 60): EdgeTiming {
  const isolateTtlSec = Math.min(5, Math.max(0, stalenessSec));
  const coloTtlSec = Math.max(0, stalenessSec - isolateTtlSec - KV_MIN_CACHE_TTL);
  return { stalenessSec, isolateTtlSec, coloTtlSec, kvCacheTtlSec: Math.max(KV_MIN_CACHE_TTL, stalenessSec - isolateTtlSec - coloTtlSec) };
}

/** What an isolate caches: manifests (with bytes) and blob records, under their edge keys. */
export type EdgeCacheValue = ManifestContent | BlobRecord;

/** What the edge readers are built from. */
export interface EdgeSources {
  kv: KVNamespace;
  bucket: R2Bucket;
  indexes: Indexes;
  /** The strongly consistent store an edge miss falls back to; it backfills the edge (DoManifestStore with backfill). */
  origin: DoManifestStore;
  cache: IsolateCache<EdgeCacheValue>;
  /** The data centre's cache (the Cache API), for content by digest; absent: not used. */
  colo?: Cache;
  /**
   * This registry's part of that cache (its entries' URLs start with it): two registries on one zone, or in one
   * local runtime, share `caches.default` and must not read each other's blob records.
   */
  coloNamespace?: string;
  timing: EdgeTiming;
}

/**
 * Manifests read at the edge: an isolate's memory, else one KV read (`tag:` or `manifest:` key: bytes with
 * digest and media type), else the repository's Durable Object (which then publishes the key again). Tags are
 * as fresh as `EdgeTiming` says; by digest the content never changes, so a hit is never wrong while the manifest
 * exists, and a miss asks the Durable Object. Listings always ask the Durable Object.
 */
export class EdgeManifestReader implements ManifestReader, ManifestParents {
  private readonly colo: ColoCache | undefined;

  constructor(private readonly s: EdgeSources) {
    this.colo = coloOf(s);
  }

  async get(repository: RepositoryName, ref: ManifestRef): Promise<ManifestContent | null> {
    const entry: EdgeEntry =
      ref.kind === "tag" ? { kind: "tag", repository, ref: ref.tag } : { kind: "manifest", repository, ref: ref.digest };
    const key = edgeKey(entry);
    const cached = this.s.cache.get(key) as ManifestContent | undefined;
    if (cached) return cached;
    const colo = ref.kind === "digest" ? this.colo : undefined;
    const fromColo = (await colo?.manifest(key)) ?? null;
    const found = fromColo ?? (await this.fromKv(repository, key)) ?? (await this.s.origin.get(repository, ref));
    if (!found) return null;
    const content: ManifestContent = { digest: found.digest, mediaType: found.mediaType, size: found.size, bytes: found.bytes };
    if (!fromColo) await colo?.keepManifest(key, content);
    this.s.cache.set(key, content, content.size);
    if (ref.kind === "tag") this.s.cache.set(edgeKey({ kind: "manifest", repository, ref: content.digest }), content, content.size);
    return content;
  }

  async stat(repository: RepositoryName, ref: ManifestRef): Promise<ManifestInfo | null> {
    const found = await this.get(repository, ref);
    return found ? { digest: found.digest, mediaType: found.mediaType, size: found.size } : null;
  }

  listTags(repository: RepositoryName, n: number, last?: string): Promise<Page<string> | null> {
    return this.s.origin.listTags(repository, n, last);
  }

  listReferrers(repository: RepositoryName, digest: Digest, n: number, last?: string): Promise<Page<Descriptor>> {
    return this.s.origin.listReferrers(repository, digest, n, last);
  }

  listRepositories(n: number, last?: string): Promise<Page<string>> {
    return this.s.origin.listRepositories(n, last);
  }

  /** Asked of the Durable Object, like every listing (ManifestParents). */
  parents(repository: RepositoryName, digest: Digest, n?: number): Promise<Digest[]> {
    return this.s.origin.parents(repository, digest, n);
  }

  private async fromKv(repository: RepositoryName, key: string): Promise<ManifestContent | null> {
    const { value, metadata } = await this.s.kv.getWithMetadata<EdgeManifestMeta>(key, {
      type: "arrayBuffer",
      cacheTtl: this.s.timing.kvCacheTtlSec,
    });
    if (value === null || !metadata) return null;
    const digest = metadata.digest as Digest;
    let bytes = new Uint8Array(value);
    if (metadata.r2) {
      const obj = await this.s.bucket.get(keys.manifest(repository, digest));
      if (!obj) return null;
      bytes = new Uint8Array(await obj.arrayBuffer());
    }
    return { digest, mediaType: metadata.mediaType, size: metadata.size, bytes };
  }
}

/**
 * Blobs read at the edge: the repository's link to the blob (its record: size and where the bytes are) from an
 * isolate's memory, else one KV read (`blob:` key), else the repository's Durable Object (which then publishes
 * it again); the bytes from R2. So a warm blob GET is one R2 read and no index call.
 */
export class EdgeBlobReader implements BlobReader {
  private readonly colo: ColoCache | undefined;

  constructor(private readonly s: EdgeSources) {
    this.colo = coloOf(s);
  }

  async stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null> {
    const record = await this.record(repository, digest);
    return record ? { digest, size: record.size } : null;
  }

  async open(repository: RepositoryName, digest: Digest): Promise<OpenBlob | null> {
    const record = await this.record(repository, digest);
    return record ? openRecord(this.s.bucket, digest, record) : null;
  }

  private async record(repository: RepositoryName, digest: Digest): Promise<BlobRecord | null> {
    const key = edgeKey({ kind: "blob", repository, ref: digest });
    const cached = this.s.cache.get(key) as BlobRecord | undefined;
    if (cached) return cached;
    const colo = this.colo;
    const fromColo = await colo?.text(key);
    const text = fromColo ?? (await this.s.kv.get(key, { type: "text", cacheTtl: this.s.timing.kvCacheTtlSec }));
    const record = (text !== null ? parseOrNull(text) : null) ?? (await this.s.indexes.repository(repository).blob(digest, true));
    if (!record) return null;
    this.s.cache.set(key, record, 64 + 96 * record.segments.length);
    if (fromColo === null) await colo?.keepText(key, JSON.stringify(record));
    return record;
  }
}

/** The data centre's cache of content by digest, when there is one and the bound leaves it time. */
function coloOf(s: EdgeSources): ColoCache | undefined {
  return s.colo && s.timing.coloTtlSec > 0 ? new ColoCache(s.colo, s.timing.coloTtlSec, s.coloNamespace ?? "edge-registry") : undefined;
}

/**
 * Content by digest in the Cache API under an internal URL per edge key, kept `ttlSec` (part of the staleness
 * bound: a deletion cannot purge other data centres, so an entry must expire in time). Best effort: a failed
 * read is a miss, a failed write is ignored. (On Cloudflare the Cache API works on a custom domain, not on
 * workers.dev; there every read is a miss and KV answers.)
 */
class ColoCache {
  constructor(
    private readonly cache: Cache,
    private readonly ttlSec: number,
    private readonly namespace: string,
  ) {}

  async manifest(key: string): Promise<ManifestContent | null> {
    const res = await this.cache.match(this.url(key)).catch(() => undefined);
    const meta = res?.headers.get("X-Edge-Meta");
    if (!res || !meta) return null;
    const { digest, mediaType, size } = JSON.parse(meta) as EdgeManifestMeta;
    return { digest: digest as Digest, mediaType, size, bytes: new Uint8Array(await res.arrayBuffer()) };
  }

  keepManifest(key: string, m: ManifestContent): Promise<void> {
    const meta: EdgeManifestMeta = { digest: m.digest, mediaType: m.mediaType, size: m.size };
    return this.keep(key, m.bytes, { "X-Edge-Meta": JSON.stringify(meta) });
  }

  async text(key: string): Promise<string | null> {
    const res = await this.cache.match(this.url(key)).catch(() => undefined);
    return res ? res.text() : null;
  }

  keepText(key: string, text: string): Promise<void> {
    return this.keep(key, text, {});
  }

  /** Kept on a miss only (a miss already waited for KV or the Durable Object); a failure is ignored. */
  private keep(key: string, body: BodyInit, headers: Record<string, string>): Promise<void> {
    const response = new Response(body, { headers: { ...headers, "Cache-Control": `max-age=${this.ttlSec}` } });
    return this.cache.put(this.url(key), response).catch(() => undefined);
  }

  private url(key: string): string {
    return `https://edge-index.internal/${encodeURIComponent(this.namespace)}/${encodeURIComponent(key)}`;
  }
}

/** A record the edge holds, or null when it is unreadable (then the Durable Object answers). */
function parseOrNull(text: string): BlobRecord | null {
  try {
    return parseBlobRecord(text);
  } catch {
    return null;
  }
}

/** The read roles served at the edge. */
export function createEdgeReadStores(sources: EdgeSources): ReadStores {
  return { blobs: new EdgeBlobReader(sources), manifests: new EdgeManifestReader(sources) };
}
