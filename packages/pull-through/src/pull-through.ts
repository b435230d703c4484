import type { RepositoryName } from "@registry/core";
import type { ReadStores } from "@registry/storage";
import type { BlobFills } from "./blob-fills";
import type { CacheStores } from "./cache-port";
import { PullThroughBlobs } from "./pull-through-blobs";
import { PullThroughManifests } from "./pull-through-manifests";
import type { UpstreamClient } from "./upstream-client";

export interface PullThroughOptions {
  /** The mirror's own stores: the cache. */
  local: CacheStores;
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

/**
 * The read side of the registry over a cache that fills itself from an upstream registry (distribution's
 * "proxy" blob and manifest stores). Content by digest is immutable: stored the first time, then served
 * locally. Tags are served from the cache for `tagTtlMs`, then revalidated with a HEAD upstream; when the
 * upstream is down or rate-limits us, a cached tag is served stale. Only the read roles exist: there is
 * nothing to write through a mirror (its routes are the read routes). Upstream
 * failures throw an UpstreamError (an OciError: 502/503/504, 429 or 403 naming the upstream); nothing is
 * cached unless it arrived whole and verified.
 */
export function pullThroughStores(options: PullThroughOptions): ReadStores {
  return { manifests: new PullThroughManifests(options), blobs: new PullThroughBlobs(options) };
}
