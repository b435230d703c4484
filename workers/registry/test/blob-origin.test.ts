import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import worker, { type Env } from "../src/index";
import { BASE, pushBlob, randomBytes } from "./helpers";

/**
 * Where a big blob GET is redirected is the local front's word only (TRUST_BLOB_ORIGIN=on, set by
 * scripts/system.mjs): without it, as on Cloudflare, a client's own `X-Blob-Origin` is dropped and the bytes are
 * served inline, so no client can have the registry send it (or anyone) to an origin of its choosing.
 */
const e = env as unknown as Env;
const get = (digest: string, vars: Partial<Env>) =>
  worker.fetch(new Request(`${BASE}/v2/origin/big/blobs/${digest}`, { headers: { "X-Blob-Origin": "http://elsewhere.example" } }), {
    ...e,
    ...vars,
  });

describe("X-Blob-Origin", () => {
  test("a client's own header is ignored unless the front is trusted: the blob is served inline", async () => {
    const digest = await pushBlob("origin/big", randomBytes(16 * 1024 * 1024));
    const inline = await get(digest, { TRUST_BLOB_ORIGIN: "off" });
    expect(inline.status).toBe(200);
    expect((await inline.arrayBuffer()).byteLength).toBe(16 * 1024 * 1024);
    const trusted = await get(digest, { TRUST_BLOB_ORIGIN: "on" });
    expect(trusted.status).toBe(307);
    expect(trusted.headers.get("location")).toMatch(/^http:\/\/elsewhere\.example\/v2\/origin\/big\/blobs\/sha256:[0-9a-f]{64}\?expires=\d+&signature=/);
  });
});
