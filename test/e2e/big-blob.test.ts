import { createReadStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, expect, test } from "vitest";
import { fileDigest, OciLayout, type Descriptor } from "../support/oci-layout";
import { ok } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * A 1 GiB blob through the running system: skopeo push and pull (one streamed PATCH), the same bytes as
 * many PATCH chunks, and as one monolithic PUT — each read back and checked against its digest.
 */

const GiB = 1024 * 1024 * 1024;
let sys: RunningSystem;
let work: string;
let layout: OciLayout;
let big: { desc: Descriptor; diffId: string };
let blobFile: string;

beforeAll(async () => {
  sys = await startSystem();
  work = mkdtempSync(path.join(tmpdir(), "big-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  big = await layout.bigLayer(GiB);
  blobFile = path.join(layout.blobs, big.desc.digest.slice(7));
  layout.tag(layout.image({ layers: [big] }), "big");
}, 300_000);

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test("skopeo pushes and pulls an image with a 1 GiB layer", async () => {
  await ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:big`, `docker://${sys.host}/big/image:1`]);
  const out = path.join(work, "pulled");
  await ok(["copy", "--src-tls-verify=false", `docker://${sys.host}/big/image:1`, `dir:${out}`]);
  const pulled = path.join(out, big.desc.digest.slice(7));
  expect(statSync(pulled).size).toBe(big.desc.size);
  expect(await fileDigest(pulled)).toBe(big.desc.digest);
  rmSync(out, { recursive: true, force: true });
});

/** Each request of these uploads may take this long (a 32 MiB chunk takes about a second): a stall names its request. */
const REQUEST_LIMIT_MS = 120_000;

test("the same 1 GiB as many PATCH chunks", async () => {
  const size = big.desc.size;
  const chunk = 32 * 1024 * 1024 + 17; // deliberately not a multiple of R2's part size
  let loc = (await sys.fetch(`${sys.registry}/v2/big/chunks/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
  for (let start = 0; start < size; start += chunk) {
    const end = Math.min(size, start + chunk) - 1;
    const res = await sys.fetch(sys.registry + loc, {
      method: "PATCH",
      headers: { "Content-Range": `${start}-${end}`, "Content-Length": String(end - start + 1), "Content-Type": "application/octet-stream" },
      body: Readable.toWeb(createReadStream(blobFile, { start, end, highWaterMark: 1024 * 1024 })) as ReadableStream,
      duplex: "half",
      signal: AbortSignal.timeout(REQUEST_LIMIT_MS),
    } as RequestInit);
    expect(res.status, `PATCH ${start}-${end}: ${await res.text()}`).toBe(202);
    expect(res.headers.get("range")).toBe(`0-${end}`);
    loc = res.headers.get("location")!;
  }
  const done = await sys.fetch(`${sys.registry}${loc}?digest=${big.desc.digest}`, { method: "PUT", signal: AbortSignal.timeout(REQUEST_LIMIT_MS) });
  expect(done.status, await done.text()).toBe(201);
  expect(await digestOfUrl(`${sys.registry}/v2/big/chunks/blobs/${big.desc.digest}`)).toBe(big.desc.digest);
});

test("the same 1 GiB as one monolithic PUT", async () => {
  const size = big.desc.size;
  const session = (await sys.fetch(`${sys.registry}/v2/big/mono/blobs/uploads/`, { method: "POST" })).headers.get("location")!;
  const put = await sys.fetch(`${sys.registry}${session}?digest=${big.desc.digest}`, {
    method: "PUT",
    headers: { "Content-Length": String(size), "Content-Type": "application/octet-stream" },
    body: Readable.toWeb(createReadStream(blobFile, { highWaterMark: 1024 * 1024 })) as ReadableStream,
    duplex: "half",
    signal: AbortSignal.timeout(4 * REQUEST_LIMIT_MS),
  } as RequestInit);
  expect(put.status, await put.text()).toBe(201);
  expect(await digestOfUrl(`${sys.registry}/v2/big/mono/blobs/${big.desc.digest}`)).toBe(big.desc.digest);
});

async function digestOfUrl(url: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const res = await sys.fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-length")).toBe(String(statSync(blobFile).size));
  const hash = createHash("sha256");
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(c);
  return `sha256:${hash.digest("hex")}`;
}

