// The prices and the designs `pnpm cost` (scripts/cost-model.mjs) prices: Cloudflare's published prices with their
// sources, what one pull is, and each design's per-request operations (docs/COST.md).

/** Prices as read on PRICES_READ_ON (USD; "included" = monthly usage included in the Workers Paid plan). */
export const PRICES_READ_ON = "2026-11-30";
export const PRICES = {
  workers: {
    source: "https://developers.cloudflare.com/workers/platform/pricing/",
    subscription: 5, requests: { included: 10e6, perMillion: 0.3 }, cpuMs: { included: 30e6, perMillion: 0.02 },
  },
  r2: {
    source: "https://developers.cloudflare.com/r2/pricing/",
    storageGbMonth: { included: 10, perUnit: 0.015 },
    classA: { included: 1e6, perMillion: 4.5 }, classB: { included: 10e6, perMillion: 0.36 }, egress: 0,
  },
  kv: {
    source: "https://developers.cloudflare.com/kv/platform/pricing/",
    reads: { included: 10e6, perMillion: 0.5 }, writes: { included: 1e6, perMillion: 5 },
    storageGbMonth: { included: 1, perUnit: 0.5 },
  },
  durableObjects: {
    source: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
    requests: { included: 1e6, perMillion: 0.15 }, gbSeconds: { included: 400e3, perMillion: 12.5 },
    memoryGb: 0.128, // billed for 128 MB whatever is used; the page's examples compute GB-s as seconds * 128 MB / 1 GB
    rowsRead: { included: 25e9, perMillion: 0.001 }, rowsWritten: { included: 50e6, perMillion: 1 },
  },
  // The Cache API has no price: its calls are subrequests (Workers limits), which are not billed (Workers pricing).
};

/** One pull as docker/containerd make it, anonymous with token auth (docs/COST.md "What one pull is"). */
export const PULL = {
  challenge: 1, // the first request without a token (GET /v2/ or the manifest HEAD) → 401 + WWW-Authenticate
  token: 1, // GET /token on the auth worker, anonymous: no Durable Object, no storage
  manifestByTag: 1, // HEAD /v2/<name>/manifests/<tag> → the index's digest
  manifestByDigest: 2, // GET the index, GET the platform's manifest
  blob: 6, // GET the config and the 5 layers
};
export const IMAGE_GB = 0.2; // 200 MB, stored once
export const MONTH_SECONDS = 30 * 86400;
export const DO_SOFT_LIMIT_RPS = 1000; // per object (Durable Objects FAQ, "How much work can a single Durable Object do?")
export const VOLUMES = [10e6, 1e9]; // pulls per month

export const NONE = { do: 0, kvRead: 0, kvWrite: 0, r2A: 0, r2B: 0 };
export const op = (o) => ({ ...NONE, ...o });

const TOKEN_AUTH = PULL.challenge + PULL.token;
const KV_OPS = { manifestByTag: op({ kvRead: 1 }), manifestByDigest: op({ kvRead: 1 }), blob: op({ kvRead: 1, r2B: 1 }) };

/**
 * The designs' own per-request counts (used when the bench measured none); `ops` is what a request costs when it
 * reaches its store. `authRequests`: challenge + token. `edge`: the isolate's cache is in front (`--isolate-hit`);
 * `colo`: the Cache API is in front of KV for requests by digest (`--colo-miss`).
 */
export const DESIGNS = {
  before: {
    label: "this registry, before KV",
    assumes: "every manifest/blob request is 1 call to the repository's Durable Object; a blob GET also 1 R2 class B",
    authRequests: TOKEN_AUTH,
    ops: { manifestByTag: op({ do: 1 }), manifestByDigest: op({ do: 1 }), blob: op({ do: 1, r2B: 1 }) },
  },
  edge: {
    label: "this registry, edge, custom domain",
    assumes: "tag: 1 KV read; by digest (manifests, blob records): the Cache API, 1 KV read on its misses; blob GET also 1 R2 class B",
    authRequests: TOKEN_AUTH, edge: true, colo: true, ops: KV_OPS,
  },
  edgeWorkersDev: {
    label: "this registry, edge, workers.dev",
    assumes: "no Cache API on *.workers.dev: every manifest request and blob record is 1 KV read; blob GET also 1 R2 class B",
    authRequests: TOKEN_AUTH, edge: true, colo: false, ops: KV_OPS,
  },
  r2: {
    label: "R2 per request (serverless-registry)",
    assumes: "cloudflare/serverless-registry: manifest HEAD/GET = 1 R2 head/get, blob GET = 1 R2 get; Basic/JWT auth, no token service",
    authRequests: PULL.challenge,
    ops: { manifestByTag: op({ r2B: 1 }), manifestByDigest: op({ r2B: 1 }), blob: op({ r2B: 1 }) },
  },
};

