import type { Descriptor, Digest, RepositoryName, Tag } from "@registry/core";
import { keys } from "./keys";
import type { ManifestContent, ManifestInfo, ManifestRef, ManifestStore, ManifestWrite, Page } from "./ports";

/** R2 returns at most this many keys per list call. */
const R2_LIST_LIMIT = 1000;

/**
 * Manifests, tags, referrers and the catalog on R2, which is strongly consistent everywhere: a client that
 * pushes and at once pulls from any location sees what it pushed. A tag object holds a copy of the manifest
 * bytes, so a pull by tag is a single read.
 */
export class R2ManifestStore implements ManifestStore {
  constructor(private readonly bucket: R2Bucket) {}

  async get(repository: RepositoryName, ref: ManifestRef): Promise<ManifestContent | null> {
    const obj = await this.bucket.get(refKey(repository, ref));
    if (!obj) return null;
    const bytes = new Uint8Array(await obj.arrayBuffer());
    return { ...info(obj, ref), bytes };
  }

  async stat(repository: RepositoryName, ref: ManifestRef): Promise<ManifestInfo | null> {
    const obj = await this.bucket.head(refKey(repository, ref));
    return obj ? info(obj, ref) : null;
  }

  async has(repository: RepositoryName, digest: Digest): Promise<boolean> {
    return (await this.bucket.head(keys.manifest(repository, digest))) !== null;
  }

  async put(repository: RepositoryName, m: ManifestWrite, tag?: Tag): Promise<void> {
    const options: R2PutOptions = {
      httpMetadata: { contentType: m.mediaType },
      customMetadata: { digest: m.digest },
    };
    await this.bucket.put(keys.manifest(repository, m.digest), m.bytes, options);
    const writes: Promise<unknown>[] = [this.bucket.put(keys.catalog(repository), "")];
    if (m.subject && m.referrer) {
      writes.push(
        this.bucket.put(keys.referrer(repository, m.subject, m.digest), "", {
          customMetadata: { descriptor: JSON.stringify(m.referrer) },
        }),
      );
    }
    if (tag) writes.push(this.bucket.put(keys.tag(repository, tag), m.bytes, options));
    await Promise.all(writes);
  }

  async deleteTag(repository: RepositoryName, tag: Tag): Promise<boolean> {
    const key = keys.tag(repository, tag);
    if (!(await this.bucket.head(key))) return false;
    await this.bucket.delete(key);
    return true;
  }

  async deleteManifest(repository: RepositoryName, digest: Digest): Promise<boolean> {
    const obj = await this.bucket.get(keys.manifest(repository, digest));
    if (!obj) return false;
    const doomed: string[] = [];
    const subject = subjectOf(await obj.text());
    if (subject) doomed.push(keys.referrer(repository, subject, digest));
    for await (const o of this.list(keys.tagPrefix(repository), undefined, ["customMetadata"])) {
      if (o.customMetadata?.digest === digest) doomed.push(o.key);
    }
    // Tags go first, the manifest last: a tag never points at a manifest that is gone.
    for (let i = 0; i < doomed.length; i += R2_LIST_LIMIT) {
      await this.bucket.delete(doomed.slice(i, i + R2_LIST_LIMIT));
    }
    await this.bucket.delete(keys.manifest(repository, digest));
    return true;
  }

  async listTags(repository: RepositoryName, n: number, last?: string): Promise<Page<string> | null> {
    const prefix = keys.tagPrefix(repository);
    const page = await this.page(prefix, n, last);
    if (page.items.length === 0 && !last && !(await this.bucket.head(keys.catalog(repository)))) return null;
    return page;
  }

  async listReferrers(repository: RepositoryName, digest: Digest, n: number, last?: string): Promise<Page<Descriptor>> {
    const prefix = keys.referrerPrefix(repository, digest);
    const items: Descriptor[] = [];
    let more = false;
    for await (const o of this.list(prefix, last, ["customMetadata"])) {
      if (items.length === n) {
        more = true;
        break;
      }
      const d = o.customMetadata?.descriptor;
      if (d) items.push(JSON.parse(d) as Descriptor);
    }
    return { items, more };
  }

  async listRepositories(n: number, last?: string): Promise<Page<string>> {
    return this.page(keys.catalogPrefix, n, last);
  }

  /** Names under `prefix` in lexical order after `last`, at most `n`, and whether more exist. */
  private async page(prefix: string, n: number, last?: string): Promise<Page<string>> {
    const items: string[] = [];
    let more = false;
    if (n <= 0) return { items, more };
    for await (const o of this.list(prefix, last)) {
      if (items.length === n) {
        more = true;
        break;
      }
      items.push(o.key.slice(prefix.length));
    }
    return { items, more };
  }

  /** Every object under `prefix` after `prefix + last`, following R2's cursors. */
  private async *list(prefix: string, last?: string, include?: ("customMetadata" | "httpMetadata")[]) {
    let cursor: string | undefined;
    do {
      const res = await this.bucket.list({
        prefix,
        limit: R2_LIST_LIMIT,
        ...(cursor ? { cursor } : last ? { startAfter: prefix + last } : {}),
        ...(include ? { include } : {}),
      });
      yield* res.objects;
      cursor = res.truncated ? res.cursor : undefined;
    } while (cursor);
  }
}

function refKey(repository: RepositoryName, ref: ManifestRef): string {
  return ref.kind === "tag" ? keys.tag(repository, ref.tag) : keys.manifest(repository, ref.digest);
}

function info(obj: R2Object, ref: ManifestRef): ManifestInfo {
  const digest = (ref.kind === "digest" ? ref.digest : obj.customMetadata?.digest) as Digest;
  const mediaType = obj.httpMetadata?.contentType ?? "application/vnd.oci.image.manifest.v1+json";
  return { digest, mediaType, size: obj.size };
}

/** The subject digest of stored manifest bytes, if any (they were validated when pushed). */
function subjectOf(text: string): Digest | undefined {
  try {
    const m = JSON.parse(text) as { subject?: { digest?: string } };
    return m.subject?.digest as Digest | undefined;
  } catch {
    return undefined;
  }
}
