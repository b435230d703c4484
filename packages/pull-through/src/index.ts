export { pullThroughStores } from "./pull-through";
export type { PullThroughOptions } from "./pull-through";
export { UpstreamClient } from "./upstream-client";
export { UpstreamError } from "./upstream-error";
export type { UpstreamFailure } from "./upstream-error";
export { cacheRepository, DEFAULT_UPSTREAM_TIMEOUT_SEC, parseUpstreams, selectUpstream, upstreamRepository } from "./upstreams";
export type { Upstream, UpstreamConfig } from "./upstreams";
export { BlobFills } from "./blob-fills";
