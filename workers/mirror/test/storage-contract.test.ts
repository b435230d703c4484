import { env } from "cloudflare:test";
import type { Digest, RepositoryName, Tag } from "@registry/core";
import { cacheRepository, parseUpstreams, pullThroughStores, selectUpstream, UpstreamClient } from "@registry/pull-through";
import { createStores, type ReadStores } from "@registry/storage";
import { afterEach, vi } from "vitest";
import { blobReaderContract, manifestReaderContract } from "../../../packages/storage/test/contract";
import type { Env } from "../src/index";
import { FakeUpstream } from "./fake-upstream";

/**
 * The read roles' contract suites against the pull-through stores: the mirror's cache in the real local R2 and
 * Durable Objects, over a stand-in upstream (test/fake-upstream.ts) that holds what each test seeds. A seeded
 * blob or manifest is not cached yet: the first read fetches it through the cache.
 */
afterEach(() => {
  vi.unstubAllGlobals();
});

function pullThrough(): { stores: ReadStores; upstream: FakeUpstream } {
  const e = env as unknown as Env;
  const upstream = new FakeUpstream().install();
  const config = parseUpstreams(JSON.stringify({ "docker.io": { url: FakeUpstream.URL } }), "docker.io", {}, 5);
  const selected = selectUpstream(config, null);
  const stores = pullThroughStores({
    local: createStores(e.MIRROR_BUCKET, { repositories: e.REPOSITORY_INDEX, catalog: e.CATALOG, blobs: e.BLOB_INDEX }),
    upstream: new UpstreamClient(selected),
    cacheName: (repository) => cacheRepository(selected, repository) as RepositoryName,
    tagTtlMs: 0,
    waitUntil: (work) => void work.catch(() => undefined),
  });
  return { stores, upstream };
}

blobReaderContract("PullThroughBlobs (fake upstream)", () => {
  const { stores, upstream } = pullThrough();
  return { reader: stores.blobs, seed: async (_repository: RepositoryName, bytes: Uint8Array) => (await upstream.putBlob(bytes)) as Digest };
});

manifestReaderContract("PullThroughManifests (fake upstream)", () => {
  const { stores, upstream } = pullThrough();
  return {
    reader: stores.manifests,
    seed: async (repository: RepositoryName, tag: Tag, bytes: Uint8Array) =>
      (await upstream.putManifest(repository, tag, JSON.parse(new TextDecoder().decode(bytes)) as object)) as Digest,
  };
});
