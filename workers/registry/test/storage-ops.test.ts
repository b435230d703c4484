import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import worker, { type Env } from "../src/index";
import { BASE, OCI_MANIFEST, pushBlob, pushImage, randomBytes } from "./helpers";

/**
 * What pulls and pushes cost in storage operations (`X-Storage-Ops` with STORAGE_METRICS=on): a blob GET is one
 * index call and one R2 read, ranged or not; a HEAD one index call; a manifest PUT one index call for all the
 * digests its descriptors name, then one to store it — however many descriptors it has.
 */
const metered = { ...(env as unknown as Env), STORAGE_METRICS: "on" };
const ops = async (path: string, init: RequestInit = {}) => {
  const res = await worker.fetch(new Request(BASE + path, init), metered);
  await res.arrayBuffer();
  const fields = res.headers.get("x-storage-ops")?.split(", ") ?? [];
  return { status: res.status, ops: fields.filter((f) => /^(do|r2-a|r2-b)=/.test(f)).join(", ") };
};

describe("storage operations per request", () => {
  test("blob GET: one index call and one R2 read, whole or ranged; HEAD: one index call", async () => {
    const digest = await pushBlob("ops/blob", randomBytes(10_000));
    const path = `/v2/ops/blob/blobs/${digest}`;
    expect(await ops(path)).toEqual({ status: 200, ops: "do=1, r2-a=0, r2-b=1" });
    expect(await ops(path, { headers: { Range: "bytes=100-199" } })).toEqual({ status: 206, ops: "do=1, r2-a=0, r2-b=1" });
    expect(await ops(path, { method: "HEAD" })).toEqual({ status: 200, ops: "do=1, r2-a=0, r2-b=0" });
  });

  test("manifest PUT: one index call checks every descriptor, one stores the manifest", async () => {
    const { body } = await pushImage("ops/manifest", "base", ["a", "b", "c", "d"]);
    const put = { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body };
    expect(await ops("/v2/ops/manifest/manifests/again", put)).toEqual({ status: 201, ops: "do=2, r2-a=0, r2-b=0" });
    const missing = body.replace(/"sha256:[0-9a-f]{64}"/, `"sha256:${"0".repeat(64)}"`);
    expect(await ops("/v2/ops/manifest/manifests/missing", { ...put, body: missing })).toEqual({ status: 400, ops: "do=1, r2-a=0, r2-b=0" });
  });
});
