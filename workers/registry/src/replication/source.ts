import { isDigest, type Descriptor, type Digest, type RepositoryName, type Tag } from "@registry/core";
import type { BlobReader, ManifestReader, ManifestRef } from "@registry/storage";
import type { SourceBlob, SourceManifest, SourceReader } from "@registry/replication";

/**
 * Replication's source (issue 11 §1): this registry's own stores, read directly (no HTTP, no token) — the
 * Durable Objects for manifests, tags and referrers, R2 for blob bytes. Names come from the registry's own rules
 * and queue, already valid; a malformed reference reads as absent.
 */
export class StoreSource implements SourceReader {
  constructor(private readonly stores: { manifests: ManifestReader; blobs: BlobReader }) {}

  async manifest(repository: string, reference: string): Promise<SourceManifest | null> {
    const ref: ManifestRef = isDigest(reference) ? { kind: "digest", digest: reference as Digest } : { kind: "tag", tag: reference as Tag };
    const found = await this.stores.manifests.get(repository as RepositoryName, ref);
    return found ? { digest: found.digest, mediaType: found.mediaType, bytes: found.bytes } : null;
  }

  async blob(repository: string, digest: string): Promise<SourceBlob | null> {
    if (!isDigest(digest)) return null;
    const open = await this.stores.blobs.open(repository as RepositoryName, digest as Digest);
    return open ? { size: open.size, read: (range) => open.read(range) } : null;
  }

  async referrers(repository: string, digest: string): Promise<Descriptor[]> {
    if (!isDigest(digest)) return [];
    const all: Descriptor[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await this.stores.manifests.listReferrers(repository as RepositoryName, digest as Digest, 1000, last);
      all.push(...page.items);
      if (!page.more || page.items.length === 0) return all;
      last = page.items[page.items.length - 1]?.digest;
    }
  }

  async tags(repository: string): Promise<string[]> {
    const all: string[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await this.stores.manifests.listTags(repository as RepositoryName, 1000, last);
      if (!page) return all;
      all.push(...page.items);
      if (!page.more || page.items.length === 0) return all;
      last = page.items[page.items.length - 1];
    }
  }
}
