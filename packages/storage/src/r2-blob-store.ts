import type { Digest, RepositoryName } from "@registry/core";
import { parseBlobRecord, readBlob } from "./blob-record";
import { keys } from "./keys";
import type { BlobContent, BlobInfo, BlobStore, ByteRange } from "./ports";

/**
 * Blobs on R2. A repository holds a blob when its link `repo/<name>/_blob/<alg>/<hex>` exists; the link
 * carries the blob's record (where the bytes are), so a pull reads the link and then the bytes, and a
 * HEAD reads the link's metadata only.
 */
export class R2BlobStore implements BlobStore {
  constructor(private readonly bucket: R2Bucket) {}

  async stat(repository: RepositoryName, digest: Digest): Promise<BlobInfo | null> {
    const head = await this.bucket.head(keys.link(repository, digest));
    if (!head) return null;
    return { digest, size: Number(head.customMetadata?.size ?? head.size) };
  }

  async get(
    repository: RepositoryName,
    digest: Digest,
    range?: (size: number) => ByteRange | undefined,
  ): Promise<BlobContent | null> {
    const link = await this.bucket.get(keys.link(repository, digest));
    if (!link) return null;
    const record = parseBlobRecord(await link.text());
    const wanted = range?.(record.size);
    const body = await readBlob(this.bucket, record, wanted);
    return wanted ? { digest, size: record.size, body, range: wanted } : { digest, size: record.size, body };
  }

  async delete(repository: RepositoryName, digest: Digest): Promise<boolean> {
    const key = keys.link(repository, digest);
    if (!(await this.bucket.head(key))) return false;
    await this.bucket.delete(key);
    return true;
  }

  async mount(to: RepositoryName, digest: Digest, from?: RepositoryName): Promise<BlobInfo | null> {
    const source = await this.bucket.get(from ? keys.link(from, digest) : keys.blob(digest));
    if (!source) return null;
    const json = await source.text();
    const record = parseBlobRecord(json);
    await this.bucket.put(keys.link(to, digest), json, { customMetadata: { size: String(record.size) } });
    return { digest, size: record.size };
  }
}
