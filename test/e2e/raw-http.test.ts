import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startSystem, type RunningSystem } from "../support/system";

/** What docker and containerd do on the wire, against the running system (through the local front). */

let sys: RunningSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => sys?.stop());

const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A PATCH whose body is sent with Transfer-Encoding: chunked (no Content-Length), in small writes. */
function chunkedPatch(url: string, data: Buffer, token: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "PATCH", headers: { "Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked", Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    const piece = 32 * 1024 + 7;
    for (let at = 0; at < data.byteLength; at += piece) req.write(data.subarray(at, at + piece));
    req.end();
  });
}

test("docker/containerd push: POST, one chunked PATCH without Content-Length, PUT ?digest", async () => {
  const data = randomBytes(20 * 1024 * 1024 + 333);
  const start = await sys.fetch(`${sys.registry}/v2/raw/docker/blobs/uploads/`, { method: "POST" });
  expect(start.status).toBe(202);
  const patch = await chunkedPatch(sys.registry + start.headers.get("location"), data, (await sys.token("raw/docker"))!);
  expect(patch.status).toBe(202);
  expect(patch.headers.range).toBe(`0-${data.byteLength - 1}`);
  const digest = sha256(data);
  const put = await sys.fetch(`${sys.registry}${patch.headers.location}?digest=${digest}`, { method: "PUT" });
  expect(put.status).toBe(201);
  const get = await sys.fetch(`${sys.registry}/v2/raw/docker/blobs/${digest}`);
  expect(get.headers.get("content-length")).toBe(String(data.byteLength));
  expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(digest);
});

test("Link keeps the host and port the client used", async () => {
  const config = await sys.fetch(`${sys.registry}/v2/raw/tags/blobs/uploads/?digest=${sha256("{}")}`, { method: "POST", body: "{}" });
  expect(config.status).toBe(201);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.empty.v1+json", digest: sha256("{}"), size: 2 },
    layers: [],
  });
  for (const tag of ["a", "b", "c"]) {
    const r = await sys.fetch(`${sys.registry}/v2/raw/tags/manifests/${tag}`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: manifest,
    });
    expect(r.status).toBe(201);
  }
  const page = await sys.fetch(`${sys.registry}/v2/raw/tags/tags/list?n=2`);
  expect(page.headers.get("link")).toBe(`<${sys.registry}/v2/raw/tags/tags/list?n=2&last=b>; rel="next"`);
  expect(await page.json()).toEqual({ name: "raw/tags", tags: ["a", "b"] });
});
