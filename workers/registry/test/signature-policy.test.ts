import { env } from "cloudflare:test";
import { createRegistryApp, type Authorize } from "@registry/api";
import { createEdgeStores, createStores, DoPolicyStore, edgeTiming, IsolateCache, type EdgeCacheValue } from "@registry/storage";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  attachSbom,
  generateKey,
  pushSignatureReferrer,
  pushSignatureTag,
  type RegistryTarget,
  type SigningKey,
} from "../../../test/support/cosign";
import worker, { type Env } from "../src/index";
import { BASE, OCI_INDEX, OCI_MANIFEST, pushImage, sha256 } from "./helpers";

/**
 * The verified-signature pull policy (issue 11 §2, §3) through the worker: under an enforced policy a manifest
 * GET needs a cosign signature (real format: simple-signing payload, DER ECDSA P-256 annotation) that verifies
 * with a trusted key and names this digest, found under the `sha256-<hex>.sig` tag or as an OCI 1.1 referrer;
 * HEAD, signature objects, referrers and tag lists stay readable; an index's children pass when the index is
 * signed; audit mode only logs. Every request goes through the worker module imported here, so the admin API's
 * change of the policies and the pulls share one isolate cache (as on one isolate in production).
 */
const testEnv = { ...(env as unknown as Env), ADMIN_TOKEN: "secret" };
const send = (url: string, init: RequestInit = {}) => worker.fetch(new Request(url.startsWith("http") ? url : BASE + url, init), testEnv);
const target: RegistryTarget = { baseUrl: BASE, fetch: send };
const ACCEPT = { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` };
const get = (repo: string, ref: string) => send(`/v2/${repo}/manifests/${ref}`, { headers: ACCEPT });
const head = (repo: string, ref: string) => send(`/v2/${repo}/manifests/${ref}`, { method: "HEAD", headers: ACCEPT });
const admin = (path: string, init: RequestInit = {}) =>
  send(path, { ...init, headers: { Authorization: "Bearer secret", "Content-Type": "application/json", ...init.headers } });

interface Policy {
  id: string;
  repository: string;
  enforce: boolean;
}

async function addPolicy(repository: string, keys: SigningKey[], enforce = true): Promise<Policy> {
  const res = await admin("/admin/policies", { method: "POST", body: JSON.stringify({ repository, keys: keys.map((k) => k.pem), enforce }) });
  expect(res.status).toBe(201);
  return (await res.json()) as Policy;
}

async function denied(res: Response, policy: Policy): Promise<void> {
  expect(res.status).toBe(403);
  const body = (await res.json()) as { errors: { code: string; message: string; detail: { policy: string; pattern: string } }[] };
  expect(body.errors[0]).toMatchObject({ code: "DENIED", detail: { policy: policy.id, pattern: policy.repository } });
  expect(body.errors[0]!.message).toContain(`signature policy ${policy.id} (${policy.repository})`);
}

let trusted: SigningKey;
let other: SigningKey;
let policy: Policy;
const added: Policy[] = [];

beforeAll(async () => {
  [trusted, other] = [await generateKey(), await generateKey()];
  policy = await addPolicy("sigpol/*", [trusted]);
  added.push(policy);
});

afterAll(async () => {
  for (const p of added) await admin(`/admin/policies/${p.id}`, { method: "DELETE" });
});

describe("an enforced signature policy", () => {
  test("unsigned: GET by tag and by digest 403 DENIED naming the policy; HEAD 200; another repository unaffected", async () => {
    const { digest } = await pushImage("sigpol/unsigned", "v1", ["u1"]);
    await denied(await get("sigpol/unsigned", "v1"), policy);
    await denied(await get("sigpol/unsigned", digest), policy);
    const h = await head("sigpol/unsigned", "v1");
    expect(h.status).toBe(200);
    expect(h.headers.get("docker-content-digest")).toBe(digest);
    await pushImage("elsewhere/unsigned", "v1", ["u1"]);
    expect((await get("elsewhere/unsigned", "v1")).status).toBe(200);
    expect((await send("/v2/sigpol/unsigned/tags/list")).status).toBe(200);
  });

  test("an untrusted key, then a payload for another digest: 403; then a valid signature takes effect at once", async () => {
    const { digest } = await pushImage("sigpol/app", "v1", ["a1"]);
    await pushSignatureTag(target, "sigpol/app", digest, other);
    await denied(await get("sigpol/app", "v1"), policy);
    await pushSignatureTag(target, "sigpol/app", digest, trusted, { payloadDigest: `sha256:${"0".repeat(64)}` });
    await denied(await get("sigpol/app", "v1"), policy);
    const sig = await pushSignatureTag(target, "sigpol/app", digest, trusted);
    expect((await get("sigpol/app", "v1")).status).toBe(200);
    expect((await get("sigpol/app", digest)).status).toBe(200);
    // The signature object itself stays readable, by tag and by digest.
    expect((await get("sigpol/app", sig.tag!)).status).toBe(200);
    expect((await get("sigpol/app", sig.digest)).status).toBe(200);
  });

  test("signed as an OCI 1.1 referrer: 200; the referrers API lists it; an SBOM and its signature stay readable", async () => {
    const { digest } = await pushImage("sigpol/ref", "v1", ["r1"]);
    await pushSignatureReferrer(target, "sigpol/ref", digest, other);
    await denied(await get("sigpol/ref", "v1"), policy);
    const sig = await pushSignatureReferrer(target, "sigpol/ref", digest, trusted);
    expect((await get("sigpol/ref", "v1")).status).toBe(200);
    const referrers = await send(`/v2/sigpol/ref/referrers/${digest}`);
    expect(referrers.status).toBe(200);
    const listed = ((await referrers.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest);
    expect(listed).toContain(sig.digest);
    expect((await get("sigpol/ref", sig.digest)).status).toBe(200);
    const sbom = await attachSbom(target, "sigpol/ref", digest);
    expect((await get("sigpol/ref", sbom.digest)).status).toBe(200);
    const sbomSig = await pushSignatureReferrer(target, "sigpol/ref", sbom.digest, trusted);
    expect((await get("sigpol/ref", sbomSig.digest)).status).toBe(200);
  });

  test("an index's children by digest pass when the index is signed; an image outside it does not", async () => {
    const amd = await pushImage("sigpol/multi", "amd64", ["m-amd"]);
    const arm = await pushImage("sigpol/multi", "arm64", ["m-arm"]);
    const loose = await pushImage("sigpol/multi", "loose", ["m-loose"]);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd.digest, size: amd.body.length, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: OCI_MANIFEST, digest: arm.digest, size: arm.body.length, platform: { os: "linux", architecture: "arm64" } },
      ],
    });
    const put = await send("/v2/sigpol/multi/manifests/latest", { method: "PUT", headers: { "Content-Type": OCI_INDEX }, body: index });
    expect(put.status).toBe(201);
    const indexDigest = await sha256(index);
    await denied(await get("sigpol/multi", "latest"), policy);
    await denied(await get("sigpol/multi", amd.digest), policy);
    await pushSignatureTag(target, "sigpol/multi", indexDigest, trusted);
    expect((await get("sigpol/multi", "latest")).status).toBe(200);
    expect((await get("sigpol/multi", amd.digest)).status).toBe(200);
    expect((await get("sigpol/multi", arm.digest)).status).toBe(200);
    await denied(await get("sigpol/multi", loose.digest), policy);
  });

  test("a policy with several keys accepts a signature by any of them", async () => {
    const third = await generateKey();
    const both = await addPolicy("sigpol-two/*", [other, third]);
    added.push(both);
    const { digest } = await pushImage("sigpol-two/app", "v1", ["t1"]);
    await denied(await get("sigpol-two/app", "v1"), both);
    await pushSignatureReferrer(target, "sigpol-two/app", digest, third);
    expect((await get("sigpol-two/app", "v1")).status).toBe(200);
  });
});

describe("the edge read path", () => {
  test("a pull-only caller served from the edge index is refused and let through just the same", async () => {
    const e = env as unknown as Env;
    const namespaces = { repositories: e.REPOSITORY_INDEX, catalog: e.CATALOG, blobs: e.BLOB_INDEX };
    const timing = edgeTiming(1);
    const pullOnly: Authorize = async () => ({ canPull: () => true, pullable: "any", mayPush: false });
    const app = createRegistryApp({
      stores: createStores(e.REGISTRY_BUCKET, namespaces),
      edge: createEdgeStores(e.REGISTRY_BUCKET, namespaces, { kv: e.EDGE_INDEX, cache: new IsolateCache<EdgeCacheValue>(1000), timing }),
      policy: new DoPolicyStore(e.POLICY),
      authorize: pullOnly,
    });
    const edgeGet = (ref: string) => app.fetch(new Request(`${BASE}/v2/sigpol/edge/manifests/${ref}`, { headers: ACCEPT }));
    const { digest } = await pushImage("sigpol/edge", "v1", ["e1"]);
    const refused = await edgeGet("v1");
    expect(refused.headers.get("x-read-path")).toBe("edge");
    await denied(refused, policy);
    await pushSignatureTag(target, "sigpol/edge", digest, trusted);
    const served = await edgeGet(digest);
    expect(served.headers.get("x-read-path")).toBe("edge");
    expect(served.status).toBe(200);
  });
});

describe("audit mode and the admin API", () => {
  test("an audit policy never refuses", async () => {
    const audit = await addPolicy("sigaudit/*", [trusted], false);
    added.push(audit);
    await pushImage("sigaudit/app", "v1", ["au1"]);
    expect((await get("sigaudit/app", "v1")).status).toBe(200);
  });

  test("list, 400 for a bad pattern or key, remove (then pulls pass), 404 for an unknown id, 401 without the token", async () => {
    const list = (await (await admin("/admin/policies")).json()) as { policies: (Policy & { keys: { kind: string; pem: string }[] })[] };
    expect(list.policies.find((p) => p.id === policy.id)).toMatchObject({ repository: "sigpol/*", enforce: true, keys: [{ kind: "cosign" }] });
    const bad = async (body: unknown, message: RegExp) => {
      const res = await admin("/admin/policies", { method: "POST", body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    };
    await bad({ repository: "Bad", keys: [trusted.pem] }, /repository/);
    await bad({ repository: "x/*", keys: [] }, /keys/);
    await bad({ repository: "x/*", keys: ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"] }, /keys\[0\]/);
    await bad({ repository: "x/*", keys: [{ kind: "notation", pem: trusted.pem }] }, /kind/);
    await bad({ repository: "x/*", keys: [trusted.pem], enforce: "yes" }, /enforce/);

    const temp = await addPolicy("sigtemp/*", [trusted]);
    await pushImage("sigtemp/app", "v1", ["tmp1"]);
    await denied(await get("sigtemp/app", "v1"), temp);
    expect((await admin(`/admin/policies/${temp.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await get("sigtemp/app", "v1")).status).toBe(200);
    expect((await admin(`/admin/policies/${temp.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await send("/admin/policies")).status).toBe(401);
  });
});
