import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { errorCodes, httpRequest } from "../support/raw-http";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Big blobs from the runtime's own listener (packages/api/src/blob-urls.ts): an authorized GET of a blob of
 * 16 MiB or more through the front is a 307 to a signed URL on another port, which serves the bytes to anyone
 * holding it (no token) — the whole blob, a range, never re-encoded. HEAD and small blobs stay inline; a
 * tampered or borrowed signature is no credential; a client cannot choose the origin.
 */

const MiB = 1024 * 1024;
const repo = "redirect/blobs";
let sys: RunningSystem;
let token: string;
const big = randomBytes(17 * MiB);
const small = randomBytes(1024);
const digestOf = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function push(bytes: Buffer): Promise<void> {
  const res = await sys.fetch(`/v2/${repo}/blobs/uploads/?digest=${digestOf(bytes)}`, {
    method: "POST",
    headers: { "Content-Type": "application/octet-stream" },
    body: bytes,
  });
  expect(res.status, await res.text()).toBe(201);
}

const get = (url: string, headers: Record<string, string> = {}, method = "GET") =>
  httpRequest(url, { method, headers: { Authorization: `Bearer ${token}`, ...headers } });

/** The Location of the registry's answer to a GET of the big blob. */
async function signedUrl(headers: Record<string, string> = {}): Promise<string> {
  const res = await get(`${sys.registry}/v2/${repo}/blobs/${digestOf(big)}`, headers);
  expect(res.status).toBe(307);
  return res.headers.location!;
}

beforeAll(async () => {
  sys = await startSystem();
  token = (await sys.token(repo))!;
  await push(big);
  await push(small);
}, 60_000);
afterAll(async () => sys?.stop());

describe("a big blob GET is redirected to the runtime's listener", () => {
  test("307 to a signed URL on another port; the URL alone (no token) gives the blob, typed, whole, not re-encoded", async () => {
    const location = await signedUrl();
    const registry = new URL(sys.registry);
    const target = new URL(location);
    expect(target.hostname).toBe(registry.hostname);
    expect(target.port).not.toBe(registry.port);
    expect(target.pathname).toBe(`/v2/${repo}/blobs/${digestOf(big)}`);
    const res = await httpRequest(location, { headers: { "Accept-Encoding": "gzip" } });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    expect(res.headers["content-length"]).toBe(String(big.length));
    expect(res.headers["content-encoding"]).toBeUndefined();
    expect(digestOf(res.body)).toBe(digestOf(big));
  });

  test("a Range is served by the signed URL (206); HEAD through the front stays inline", async () => {
    const ranged = await httpRequest(await signedUrl({ Range: "bytes=100-199" }), { headers: { Range: "bytes=100-199" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers["content-range"]).toBe(`bytes 100-199/${big.length}`);
    expect(ranged.body.equals(big.subarray(100, 200))).toBe(true);
    const head = await get(`${sys.registry}/v2/${repo}/blobs/${digestOf(big)}`, {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(big.length));
  });

  test("fetch (which drops Authorization on a cross-origin redirect) follows it to the bytes", async () => {
    const res = await sys.fetch(`/v2/${repo}/blobs/${digestOf(big)}`);
    expect(res.status).toBe(200);
    expect(res.redirected).toBe(true);
    expect(digestOf(Buffer.from(await res.arrayBuffer()))).toBe(digestOf(big));
  });

  test("a small blob is served inline", async () => {
    const res = await get(`${sys.registry}/v2/${repo}/blobs/${digestOf(small)}`);
    expect(res.status).toBe(200);
    expect(res.body.equals(small)).toBe(true);
  });
});

describe("a signed URL is a credential for its own path only", () => {
  test("a tampered signature, or the signature of another path, is refused (401 with the challenge)", async () => {
    const location = new URL(await signedUrl());
    const tampered = new URL(location);
    tampered.searchParams.set("signature", `${location.searchParams.get("signature")!.slice(0, -2)}AA`);
    const other = new URL(location);
    other.pathname = `/v2/${repo}/blobs/${digestOf(small)}`;
    const unsigned = new URL(location);
    unsigned.search = "";
    for (const url of [tampered, other, unsigned]) {
      const res = await httpRequest(url.href);
      expect(res.status, url.href).toBe(401);
      expect(errorCodes(res.body)).toEqual(["UNAUTHORIZED"]);
    }
  });

  test("without access there is no redirect; an origin a client names itself is ignored", async () => {
    const denied = await httpRequest(`${sys.registry}/v2/${repo}/blobs/${digestOf(big)}`);
    expect(denied.status).toBe(401);
    expect(denied.headers.location).toBeUndefined();
    const location = await signedUrl({ "X-Blob-Origin": "http://attacker.example" });
    expect(new URL(location).hostname).toBe(new URL(sys.registry).hostname);
  });
});
