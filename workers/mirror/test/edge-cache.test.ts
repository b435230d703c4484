import { expect, test } from "vitest";
import { withEdgeCache } from "../src/edge-cache";

/** The edge cache in workerd's real Cache API: only verified content by digest is stored and served. */

async function digestOf(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return `sha256:${[...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function counting(body: string) {
  let calls = 0;
  const serve = async () => {
    calls++;
    return new Response(body, { headers: { "Content-Type": "application/octet-stream", "Content-Length": String(body.length) } });
  };
  return { serve, calls: () => calls };
}

async function twice(path: string, body: string, init: RequestInit = {}) {
  const cache = await caches.open(`test-${crypto.randomUUID()}`);
  const pending: Promise<unknown>[] = [];
  const { serve, calls } = counting(body);
  const request = () => new Request(`http://mirror.test${path}`, init);
  const first = await withEdgeCache(request(), "docker.io", cache, (w) => pending.push(w), serve);
  expect(await first.text()).toBe(body);
  await Promise.all(pending);
  const second = await withEdgeCache(request(), "docker.io", cache, (w) => pending.push(w), serve);
  expect(await second.text()).toBe(body);
  return calls();
}

test("a blob by digest is served from the edge cache the second time", async () => {
  const body = "layer bytes";
  expect(await twice(`/v2/library/a/blobs/${await digestOf(body)}`, body)).toBe(1);
});

test("a body that does not match its digest is never stored", async () => {
  expect(await twice(`/v2/library/a/blobs/${await digestOf("other")}`, "corrupt")).toBe(2);
});

test("tags and ranges are not cached", async () => {
  const body = "{}";
  const d = await digestOf(body);
  expect(await twice(`/v2/library/a/manifests/latest`, body)).toBe(2);
  expect(await twice(`/v2/library/a/blobs/${d}`, body, { headers: { Range: "bytes=0-0" } })).toBe(2);
});
