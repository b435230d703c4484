import type { Digest, RepositoryName } from "@registry/core";
import { parseBlobRecord, readBlob } from "./blob-record";
import type { Indexes } from "./indexes";
import { keys } from "./keys";
import type { BlobContent, BlobInfo, BlobStore, ByteRange } from "./ports";

/**
 * Blobs: bytes in R2, each repository's links to them in its Durable Object index. A HEAD is one index
 * call; a GET is the index call (which gives the blob's record: where its bytes are) and the R2 read.
 */
export class R2BlobStore implements BlobStore {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly indexes: Indexes,
  ) {}

  async stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null> {
    const record = await this.indexes.repository(repository).blob(digest);
    return record ? { digest, size: record.size } : null;
  }

  async get(
    repository: RepositoryName,
    digest: Digest,
    range?: (size: number) => ByteRange | undefined,
  ): Promise<BlobContent | null> {
    const record = await this.indexes.repository(repository).blob(digest);
    if (!record) return null;
    const wanted = range?.(record.size);
    const body = await readBlob(this.bucket, record, wanted);
    return wanted ? { digest, size: record.size, body, range: wanted } : { digest, size: record.size, body };
  }

  async delete(repository: RepositoryName, digest: Digest): Promise<boolean> {
    return this.indexes.repository(repository).unlinkBlob(digest);
  }

  async mount(to: RepositoryName, digest: Digest, from?: RepositoryName): Promise<BlobInfo | null> {
    const record = from ? await this.indexes.repository(from).blob(digest) : await this.globalRecord(digest);
    if (!record) return null;
    await this.indexes.repository(to).linkBlob(digest, record);
    return { digest, size: record.size };
  }

  /** Any repository's copy of a blob, from the global blob index in R2. */
  private async globalRecord(digest: Digest) {
    const obj = await this.bucket.get(keys.blob(digest));
    return obj ? parseBlobRecord(await obj.text()) : null;
  }
}
