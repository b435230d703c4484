import {
  OciError,
  parseDigest,
  parseManifest,
  type Descriptor,
  type Digest,
  type Manifest,
  type RepositoryName,
  type Tag,
  verifyBytes,
} from "@registry/core";
import type { ManifestContent, ManifestInfo, ManifestReader, ManifestRef, Page } from "@registry/storage";
import type { CachedManifest } from "./cache-port";
import type { PullThroughOptions } from "./pull-through";
import { UpstreamError } from "./upstream-error";

/** Manifests and tags through the cache (see pullThroughStores): the read role only. */
export class PullThroughManifests implements ManifestReader {
  constructor(private readonly o: PullThroughOptions) {}

  async get(repository: RepositoryName, ref: ManifestRef): Promise<ManifestContent | null> {
    if (ref.kind === "digest") return this.byDigest(repository, ref.digest);
    const cached = await this.o.local.manifests.get(this.o.cacheName(repository), ref);
    if (cached && Date.now() - (cached.taggedAt ?? 0) < this.o.tagTtlMs) return cached;
    try {
      return await this.revalidate(repository, ref.tag, cached);
    } catch (e) {
      if (cached && e instanceof UpstreamError) return cached; // stale beats failing while the upstream is down or limiting us
      throw e;
    }
  }

  async stat(repository: RepositoryName, ref: ManifestRef): Promise<ManifestInfo | null> {
    const found = await this.get(repository, ref);
    return found ? { digest: found.digest, mediaType: found.mediaType, size: found.size } : null;
  }

  /** Asks the upstream where a tag points now (a HEAD); fetches the manifest only if it moved. */
  private async revalidate(repository: RepositoryName, tag: Tag, cached: CachedManifest | null): Promise<ManifestContent | null> {
    const cache = this.o.cacheName(repository);
    const upstreamDigest = await this.o.upstream.resolveTag(repository, tag);
    if (!upstreamDigest) return null;
    if (cached && cached.digest === upstreamDigest) {
      await this.o.local.manifests.confirmTag(cache, tag, cached.digest);
      return cached;
    }
    const fresh = await this.byDigest(repository, parseDigest(upstreamDigest));
    if (!fresh) return null;
    await this.o.local.manifests.put(cache, fresh, tag);
    return fresh;
  }

  /** A manifest by digest: from the cache, else fetched, verified and cached. */
  private async byDigest(repository: RepositoryName, digest: Digest): Promise<ManifestContent | null> {
    const cache = this.o.cacheName(repository);
    const cached = await this.o.local.manifests.get(cache, { kind: "digest", digest });
    if (cached) return cached;
    const fetched = await this.o.upstream.getManifest(repository, digest);
    if (!fetched) return null;
    await verifyBytes(digest, fetched.bytes).catch((e: OciError) => {
      throw this.invalid(`a manifest whose digest is ${(e.detail as { actual: Digest }).actual}, not ${digest}`);
    });
    let manifest: Manifest;
    try {
      manifest = parseManifest(fetched.bytes, fetched.mediaType || null);
    } catch (e) {
      throw this.invalid(`a manifest this mirror does not support (${String(e instanceof OciError ? e.detail : e)})`);
    }
    const content: ManifestContent = { digest, mediaType: manifest.mediaType, size: fetched.bytes.byteLength, bytes: fetched.bytes };
    await this.o.local.manifests.put(cache, content);
    return content;
  }

  private invalid(reason: string): UpstreamError {
    return new UpstreamError(this.o.upstream.upstream, { kind: "invalid", reason });
  }

  async listTags(repository: RepositoryName, n: number, last?: string): Promise<Page<string> | null> {
    const query = `?n=${n}${last ? `&last=${encodeURIComponent(last)}` : ""}`;
    const page = await this.o.upstream.listTags(repository, query);
    return page ? { items: page.tags.slice(0, n), more: page.more } : null;
  }

  listReferrers(repository: RepositoryName, digest: Digest, n: number, last?: string): Promise<Page<Descriptor>> {
    return this.o.local.manifests.listReferrers(this.o.cacheName(repository), digest, n, last);
  }

  listRepositories(n: number, last?: string): Promise<Page<string>> {
    return this.o.local.manifests.listRepositories(n, last);
  }
}
