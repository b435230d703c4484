import { env } from "cloudflare:test";
import { createRegistryApp, type Authorize } from "@registry/api";
import {
  createMeteredEdgeStores,
  createMeteredStores,
  edgeKey,
  edgeTiming,
  formatStorageOps,
  Indexes,
  IsolateCache,
  newStorageOps,
  reconcileEdge,
  type EdgeCacheValue,
  type EdgeIndex,
} from "@registry/storage";
import { describe, expect, test } from "vitest";
import type { Env } from "../src/index";
import { BASE, call, OCI_MANIFEST, pushImage, randomBytes } from "./helpers";

/**
 * The edge read path's consistency contract (STORAGE.md "The edge read path"), over the real local KV, R2 and
 * Durable Objects: pushes go through the worker (which publishes to KV after each commit); reads through an app
 * wired like the worker's, whose callers are pull-only unless they send `X-Test-Pusher` (a token with push).
 */
const e = env as unknown as Env;
const namespaces = { repositories: e.REPOSITORY_INDEX, catalog: e.CATALOG, blobs: e.BLOB_INDEX };
const STALENESS_SEC = 1;
const timing = edgeTiming(STALENESS_SEC);
const cache = new IsolateCache<EdgeCacheValue>(timing.isolateTtlSec * 1000);
const authorize: Authorize = async (request) => ({ canPull: () => true, pullable: "any", mayPush: request.headers.has("X-Test-Pusher") });

/**
 * One read through the edge-wired app: status, digest, which path served it and what it cost. `edge` replaces the
 * isolate's cache, the Cache API and the timing (default: this isolate's cache, no Cache API, a 1 s bound).
 */
async function read(path: string, init: RequestInit = {}, edge: Partial<EdgeIndex> = {}) {
  const ops = newStorageOps();
  const app = createRegistryApp({
    stores: createMeteredStores(e.REGISTRY_BUCKET, namespaces, ops),
    edge: createMeteredEdgeStores(e.REGISTRY_BUCKET, namespaces, { kv: e.EDGE_INDEX, cache, timing, ...edge }, ops),
    authorize,
  });
  const res = await app.fetch(new Request(BASE + path, init));
  const body = await res.arrayBuffer();
  return {
    status: res.status,
    digest: res.headers.get("docker-content-digest"),
    path: res.headers.get("x-read-path"),
    ops: formatStorageOps(ops).split(", ").slice(0, 3).join(", "),
    bytes: body.byteLength,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits out the isolate's share of the staleness bound (locally KV has no edge cache: that is all of it). */
const pastBound = () => sleep(STALENESS_SEC * 1000 + 100);

/** Waits until the repository's object has published everything it marked (publishing follows the commit). */
async function published(repository: string): Promise<void> {
  const index = new Indexes(namespaces).repository(repository as never);
  for (let i = 0; i < 100 && (await index.edgePending()) > 0; i++) await sleep(20);
  expect(await index.edgePending()).toBe(0);
}

describe("edge read path", () => {
  test("a warm pull by tag, config and layers: no Durable Object call, at most one KV read per request", async () => {
    const { digest } = await pushImage("edge/warm", "v1", ["a", "b", "c"]);
    await published("edge/warm");
    const cold = await read("/v2/edge/warm/manifests/v1");
    expect(cold).toMatchObject({ status: 200, digest, path: "edge", ops: "do=0, kv-read=1, kv-write=0" });
    const warm = await read("/v2/edge/warm/manifests/v1");
    expect(warm).toMatchObject({ status: 200, digest, path: "edge", ops: "do=0, kv-read=0, kv-write=0" });
    const manifest = JSON.parse(await (await call({ path: "/v2/edge/warm/manifests/v1" })).text());
    for (const d of [manifest.config, ...manifest.layers]) {
      const first = await read(`/v2/edge/warm/blobs/${d.digest}`);
      expect(first).toMatchObject({ status: 200, path: "edge", ops: "do=0, kv-read=1, kv-write=0", bytes: d.size });
      const again = await read(`/v2/edge/warm/blobs/${d.digest}`);
      expect(again).toMatchObject({ status: 200, path: "edge", ops: "do=0, kv-read=0, kv-write=0", bytes: d.size });
    }
  });

  test("the staleness bound is spent in the isolate, the data centre's Cache API (content by digest) and KV", () => {
    expect(edgeTiming()).toEqual({ stalenessSec: 60, isolateTtlSec: 5, coloTtlSec: 25, kvCacheTtlSec: 30 });
    expect(edgeTiming(120)).toEqual({ stalenessSec: 120, isolateTtlSec: 5, coloTtlSec: 85, kvCacheTtlSec: 30 });
    expect(edgeTiming(1)).toEqual({ stalenessSec: 1, isolateTtlSec: 1, coloTtlSec: 0, kvCacheTtlSec: 30 });
  });

  test("content by digest is kept in the data centre's cache: another isolate reads it without KV; tags always ask KV", async () => {
    const { digest, body } = await pushImage("edge/colo", "v1", ["c1"]);
    await published("edge/colo");
    const layer = JSON.parse(body).layers[0].digest as string;
    const colo = await caches.open(`edge-test-${crypto.randomUUID()}`);
    const fresh = () => ({ colo, timing: edgeTiming(60), cache: new IsolateCache<EdgeCacheValue>(5000) });
    for (const path of [`/v2/edge/colo/manifests/${digest}`, `/v2/edge/colo/blobs/${layer}`]) {
      expect(await read(path, {}, fresh())).toMatchObject({ status: 200, ops: "do=0, kv-read=1, kv-write=0" });
      expect(await read(path, {}, fresh())).toMatchObject({ status: 200, ops: "do=0, kv-read=0, kv-write=0" });
    }
    expect(await read("/v2/edge/colo/manifests/v1", {}, fresh())).toMatchObject({ digest, ops: "do=0, kv-read=1, kv-write=0" });
  });

  test("a moved tag is seen at the edge within the bound; the pusher and no-cache see it at once", async () => {
    const first = await pushImage("edge/moved", "latest", ["one"]);
    await published("edge/moved");
    expect(await read("/v2/edge/moved/manifests/latest")).toMatchObject({ digest: first.digest, path: "edge" });
    const second = await pushImage("edge/moved", "latest", ["two"]);
    expect(await read("/v2/edge/moved/manifests/latest", { headers: { "X-Test-Pusher": "1" } })).toMatchObject({
      digest: second.digest,
      path: "origin",
    });
    expect(await read("/v2/edge/moved/manifests/latest", { headers: { "Cache-Control": "no-cache" } })).toMatchObject({
      digest: second.digest,
      path: "origin",
    });
    await published("edge/moved");
    await pastBound();
    expect(await read("/v2/edge/moved/manifests/latest")).toMatchObject({ digest: second.digest, path: "edge" });
  });

  test("by digest nothing is stale: a manifest or blob pushed a moment ago is served at once (the edge misses, the Durable Object answers)", async () => {
    const { digest } = await pushImage("edge/fresh", "t", [randomBytes(100)]);
    const got = await read(`/v2/edge/fresh/manifests/${digest}`);
    expect(got).toMatchObject({ status: 200, digest, path: "edge" });
    await published("edge/fresh");
    expect(await e.EDGE_INDEX.get(edgeKey({ kind: "manifest", repository: "edge/fresh", ref: digest }))).not.toBeNull();
  });

  test("a deleted manifest is gone from KV when the DELETE answers, and from every edge read within the bound", async () => {
    const { digest } = await pushImage("edge/deleted", "gone", ["x"]);
    await published("edge/deleted");
    expect(await read(`/v2/edge/deleted/manifests/${digest}`)).toMatchObject({ status: 200, path: "edge" });
    expect(await read("/v2/edge/deleted/manifests/gone")).toMatchObject({ status: 200, path: "edge" });
    expect((await call({ method: "DELETE", path: `/v2/edge/deleted/manifests/${digest}` })).status).toBe(202);
    expect(await e.EDGE_INDEX.get(edgeKey({ kind: "manifest", repository: "edge/deleted", ref: digest }))).toBeNull();
    expect(await e.EDGE_INDEX.get(edgeKey({ kind: "tag", repository: "edge/deleted", ref: "gone" }))).toBeNull();
    await pastBound();
    expect(await read(`/v2/edge/deleted/manifests/${digest}`)).toMatchObject({ status: 404, path: "edge" });
    expect(await read("/v2/edge/deleted/manifests/gone")).toMatchObject({ status: 404, path: "edge" });
  });

  test("a deleted tag and a deleted blob link disappear from the edge too", async () => {
    const { digest, body } = await pushImage("edge/untag", "old", ["y"]);
    await published("edge/untag");
    const layer = JSON.parse(body).layers[0].digest as string;
    expect(await read("/v2/edge/untag/manifests/old")).toMatchObject({ status: 200 });
    expect(await read(`/v2/edge/untag/blobs/${layer}`)).toMatchObject({ status: 200 });
    expect((await call({ method: "DELETE", path: "/v2/edge/untag/manifests/old" })).status).toBe(202);
    expect((await call({ method: "DELETE", path: `/v2/edge/untag/blobs/${layer}` })).status).toBe(202);
    await pastBound();
    expect(await read("/v2/edge/untag/manifests/old")).toMatchObject({ status: 404, path: "edge" });
    expect(await read(`/v2/edge/untag/blobs/${layer}`)).toMatchObject({ status: 404, path: "edge" });
    expect(await read(`/v2/edge/untag/manifests/${digest}`)).toMatchObject({ status: 200, path: "edge" });
  });

  test("a push reports the KV writes it queued: a tagged manifest two, a manifest by digest one, a blob one", async () => {
    const metered = { ...e, STORAGE_METRICS: "on" };
    const { default: worker } = await import("../src/index");
    const { body } = await pushImage("edge/cost", "base", ["z"]);
    const put = async (ref: string, text: string) => {
      const res = await worker.fetch(
        new Request(`${BASE}/v2/edge/cost/manifests/${ref}`, { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body: text }),
        metered,
      );
      return res.headers.get("x-storage-ops")?.match(/kv-write=(\d+)/)?.[1];
    };
    const other = body.replace("}", ', "annotations": {"n": "2"}}');
    expect(await put("moved", body)).toBe("2");
    expect(await put("moved", other)).toBe("2");
    const digest = `sha256:${[...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(other)))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    expect(await put(digest, other)).toBe("1");
  });

  test("the reconciler rewrites a lost key and removes a key for something deleted", async () => {
    const { digest } = await pushImage("edge/reconcile", "kept", ["r"]);
    await published("edge/reconcile");
    const tagKey = edgeKey({ kind: "tag", repository: "edge/reconcile", ref: "kept" });
    const stray = edgeKey({ kind: "tag", repository: "edge/reconcile", ref: "stray" });
    await e.EDGE_INDEX.delete(tagKey);
    await e.EDGE_INDEX.put(stray, "bogus", { metadata: { digest, mediaType: OCI_MANIFEST, size: 5 } });
    const indexes = new Indexes(namespaces);
    let report: Awaited<ReturnType<typeof reconcileEdge>>;
    do report = await reconcileEdge(e.EDGE_INDEX, indexes, 1000);
    while (!report.repositories.includes("edge/reconcile") && !report.wrapped);
    expect(report.repositories).toContain("edge/reconcile");
    await published("edge/reconcile");
    const { metadata } = await e.EDGE_INDEX.getWithMetadata<{ digest: string }>(tagKey);
    expect(metadata?.digest).toBe(digest);
    expect(await e.EDGE_INDEX.get(stray)).toBeNull();
  });
});
