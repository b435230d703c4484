export { pullThroughStores } from "./pull-through";
export type { PullThroughOptions } from "./pull-through";
export { UpstreamClient, UpstreamError } from "./upstream-client";
export { cacheRepository, parseUpstreams, selectUpstream, upstreamRepository } from "./upstreams";
export type { Upstream, UpstreamConfig } from "./upstreams";
export { BlobFills } from "./blob-fills";
