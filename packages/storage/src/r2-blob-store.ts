import type { Digest, RepositoryName } from "@registry/core";
import { readBlob, type BlobRecord } from "./blob-record";
import type { Indexes } from "./indexes";
import type { BlobInfo, BlobStore, MountSources, OpenBlob } from "./ports";

/** A blob record found for a mount in a source repository. */
interface Found {
  source: RepositoryName;
  record: BlobRecord;
}

/**
 * Blobs: bytes in R2, each repository's links to them in its Durable Object index. A HEAD is one index
 * call; a GET is the index call (`open`: the blob's record, where its bytes are) and the R2 read (`read`).
 */
export class R2BlobStore implements BlobStore {
  /** `backfill`: this store is the edge read path's origin, so what a read finds is published to the edge again. */
  constructor(
    private readonly bucket: R2Bucket,
    private readonly indexes: Indexes,
    private readonly backfill = false,
  ) {}

  async stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null> {
    const record = await this.indexes.repository(repository).blob(digest, this.backfill);
    return record ? { digest, size: record.size } : null;
  }

  async open(repository: RepositoryName, digest: Digest): Promise<OpenBlob | null> {
    const record = await this.indexes.repository(repository).blob(digest, this.backfill);
    return record ? openRecord(this.bucket, digest, record) : null;
  }

  async delete(repository: RepositoryName, digest: Digest): Promise<boolean> {
    return (await this.indexes.repository(repository).unlinkBlob(digest)).deleted;
  }

  /**
   * The link is made from the blob index's copy, touched first (so a GC run under way keeps it); a source linked
   * before the blob index existed hands its record over. A copy being deleted by GC is not mounted: null.
   */
  async mount(to: RepositoryName, digest: Digest, sources: MountSources): Promise<BlobInfo | null> {
    let adopt: BlobRecord | undefined;
    if (sources !== "any") {
      const found = await this.firstRecord(sources, digest);
      if (!found) return null;
      if (found.source === to) return { digest, size: found.record.size };
      adopt = found.record;
    }
    const record = await this.indexes.blobs.of(digest).acquire(digest, adopt);
    if (!record) return null;
    await this.indexes.repository(to).linkBlob(digest, record);
    return { digest, size: record.size };
  }

  /** The blob's record in the first of `repositories` that links it, one index call each until found. */
  private async firstRecord(repositories: readonly RepositoryName[], digest: Digest): Promise<Found | null> {
    for (const source of repositories) {
      const record = await this.indexes.repository(source).blob(digest);
      if (record) return { source, record };
    }
    return null;
  }
}

/** A blob whose record is known, ready to read from the bucket (no bytes read yet). */
export function openRecord(bucket: R2Bucket, digest: Digest, record: BlobRecord): OpenBlob {
  return { digest, size: record.size, read: (range) => readBlob(bucket, record, range) };
}
