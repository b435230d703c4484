import { OciError, type Descriptor, type Digest, type RepositoryName, type Tag } from "@registry/core";
import type { Indexes } from "./indexes";
import { keys } from "./keys";
import type {
  ManifestContent,
  ManifestInfo,
  ManifestRef,
  ManifestStore,
  ManifestWrite,
  Page,
  ProtectedTags,
  References,
  StoredSizes,
} from "./ports";
import { INLINE_LIMIT, type IndexedManifest } from "./repository-index";
import type { ManifestParents } from "./signature-policy";
import { immutableTag } from "./tag-guard";

/**
 * Manifests, tags, referrers and the catalog in the repositories' Durable Objects (strongly consistent:
 * a push is seen by the next pull from anywhere). A pull by tag or digest is one call to the repository's
 * object; only a manifest over INLINE_LIMIT bytes is also read from R2.
 */
export class DoManifestStore implements ManifestStore, ManifestParents {
  /** `backfill`: this store is the edge read path's origin, so what a read finds is published to the edge again. */
  constructor(
    private readonly indexes: Indexes,
    private readonly bucket: R2Bucket,
    private readonly backfill = false,
  ) {}

  /** The manifest with its bytes; looked up by tag, also when the tag was last set or confirmed (`taggedAt`). */
  async get(repository: RepositoryName, ref: ManifestRef): Promise<(ManifestContent & { taggedAt?: number }) | null> {
    const row = await this.indexes.repository(repository).manifest(lookup(ref), true, this.backfill);
    if (!row) return null;
    let bytes = row.bytes;
    if (!bytes) {
      const obj = await this.bucket.get(keys.manifest(repository, row.digest as Digest));
      if (!obj) return null;
      bytes = new Uint8Array(await obj.arrayBuffer());
    }
    const found = { ...info(row), bytes };
    return row.taggedAt === undefined ? found : { ...found, taggedAt: row.taggedAt };
  }

  async stat(repository: RepositoryName, ref: ManifestRef): Promise<ManifestInfo | null> {
    const row = await this.indexes.repository(repository).manifest(lookup(ref), false, this.backfill);
    return row ? info(row) : null;
  }

  async storedSizes(repository: RepositoryName, references: References): Promise<StoredSizes> {
    if (references.blobs.length === 0 && references.manifests.length === 0) return { blobs: [], manifests: [] };
    return this.indexes.repository(repository).sizes([...references.blobs], [...references.manifests]);
  }

  async put(repository: RepositoryName, m: ManifestWrite, tag?: Tag, protect?: ProtectedTags): Promise<void> {
    const inline = m.bytes.byteLength <= INLINE_LIMIT;
    if (!inline) {
      await this.bucket.put(keys.manifest(repository, m.digest), m.bytes, { httpMetadata: { contentType: m.mediaType } });
    }
    const { refused, missing } = await this.indexes.repository(repository).putManifest(
      repository,
      {
        digest: m.digest,
        mediaType: m.mediaType,
        size: m.size,
        bytes: inline ? m.bytes : null,
        ...(m.subject ? { subject: m.subject } : {}),
        ...(m.referrer ? { referrer: m.referrer } : {}),
        ...(m.references ? { references: m.references } : {}),
      },
      tag,
      protect,
    );
    if (refused) throw immutableTag(refused);
    if (missing) throw new OciError("MANIFEST_BLOB_UNKNOWN", { detail: { digests: missing } });
  }

  /**
   * Records that `tag` still points at `digest` upstream: for a pull-through cache revalidating a tag (the
   * mirror's own port, not the shared ManifestStore); its `taggedAt` restarts.
   */
  async confirmTag(repository: RepositoryName, tag: Tag, digest: Digest): Promise<void> {
    await this.indexes.repository(repository).confirmTag(tag, digest);
  }

  async deleteTag(repository: RepositoryName, tag: Tag, protect?: ProtectedTags): Promise<boolean> {
    const { deleted, refused } = await this.indexes.repository(repository).deleteTag(tag, protect);
    if (refused) throw immutableTag(refused);
    return deleted;
  }

  async deleteManifest(repository: RepositoryName, digest: Digest, protect?: ProtectedTags): Promise<boolean> {
    const { deleted, external, refused } = await this.indexes.repository(repository).deleteManifest(digest, protect);
    if (refused) throw immutableTag(refused);
    if (external) await this.bucket.delete(keys.manifest(repository, digest));
    return deleted;
  }

  async listTags(repository: RepositoryName, n: number, last?: string): Promise<Page<string> | null> {
    return this.indexes.repository(repository).listTags(n, last);
  }

  async listReferrers(repository: RepositoryName, digest: Digest, n: number, last?: string): Promise<Page<Descriptor>> {
    return this.indexes.repository(repository).listReferrers(digest, n, last);
  }

  async listRepositories(n: number, last?: string): Promise<Page<string>> {
    return this.indexes.catalog().list(n, last);
  }

  /** The indexes of the repository that list `digest` as a child (ManifestParents: the signature policy's index rule). */
  async parents(repository: RepositoryName, digest: Digest, n = 20): Promise<Digest[]> {
    return (await this.indexes.repository(repository).parents(digest, n)) as unknown as Digest[];
  }
}

function info(row: IndexedManifest): ManifestInfo {
  return { digest: row.digest as Digest, mediaType: row.mediaType, size: row.size };
}

function lookup(ref: ManifestRef): { tag?: string; digest?: string } {
  return ref.kind === "tag" ? { tag: ref.tag } : { digest: ref.digest };
}
