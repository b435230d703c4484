import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateKey, signWithSbom, type RegistryTarget } from "../support/cosign";
import { admin, adminJson, adminToken } from "../support/lifecycle";
import { OciLayout } from "../support/oci-layout";
import { ok } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";
import { Distribution, freePort } from "../support/upstream";

/**
 * Replication end to end (issue 11 §1, §3) on the system as `pnpm start` runs it, with its `replica` registry and
 * ready-made rule for `replicated/*`, plus Debian's docker-registry 2.8.2 (no referrers API) as a second target:
 * skopeo pushes `replicated/app:1`, the test signs it both ways (cosign `.sig` tag and OCI referrer), attaches an
 * SBOM and signs the SBOM; all of it appears on the replica (through its referrers API) and on docker-registry
 * (referrers under the `sha256-<hex>` tag schema), every manifest read back by digest and its bytes' digest
 * checked. docker-registry stopped, a push retried until it is back; a rule with a tag filter copies only what it
 * matches; `pnpm admin replication history` lists the executions.
 */
let sys: RunningSystem;
let dist: Distribution;
let replica: string;
let work: string;
let layout: OciLayout;
const sfx = Math.random().toString(36).slice(2, 8);
const APP = "replicated/app";
const FILTERED = `filtered-${sfx}/app`;

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** An anonymous pull token of the system's auth service (both registries accept its tokens). */
async function pullToken(repository: string): Promise<string> {
  const res = await fetch(`${sys.auth}/token?service=edge-registry&scope=${encodeURIComponent(`repository:${repository}:pull`)}`);
  return ((await res.json()) as { token: string }).token;
}

/** A manifest of a registry (token auth when `tokens`), its bytes' digest checked against `digest` when given. */
async function manifestOf(base: string, repository: string, reference: string, tokens: boolean): Promise<{ status: number; body?: Record<string, unknown>; digest?: string }> {
  const headers: Record<string, string> = {
    Accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json",
    "Cache-Control": "no-cache",
  };
  if (tokens) headers.Authorization = `Bearer ${await pullToken(repository)}`;
  const res = await fetch(`${base}/v2/${repository}/manifests/${reference}`, { headers });
  if (res.status !== 200) return { status: res.status };
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: 200, body: JSON.parse(bytes.toString()) as Record<string, unknown>, digest: sha256(bytes) };
}

/** Polls until `check` is true (every 250 ms, up to `ms`). */
async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; history:\n${(await admin(sys, ["replication", "history"])).stdout}`);
}

/** The manifest is on the target byte for byte (its digest is the one asked for). */
const present = (base: string, repository: string, digest: string, tokens: boolean) => async () => (await manifestOf(base, repository, digest, tokens)).digest === digest;

async function push(tag: string, repository: string, content: string): Promise<string> {
  const digestOf = layout.image({ layers: [layout.layer("app.txt", `${sfx} ${repository}:${tag} ${content}\n`)] });
  layout.tag(digestOf, `${repository.replace(/\W/g, "-")}-${tag}`);
  await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:${repository.replace(/\W/g, "-")}-${tag}`, `docker://${sys.host}/${repository}:${tag}`]);
  return digestOf.digest;
}

interface Execution {
  rule: string;
  repository: string;
  reference: string;
  outcome: string;
  attempts: number;
  error: string | null;
}
const history = async () => (await adminJson<{ executions: Execution[] }>(sys, ["replication", "history", "--last", "200"])).executions;

let distRule: string;
let filterRule: string;
/** The image of the second test, signed with `signer` (the next test puts a policy on the replica). */
let signedApp: { digest: string; signer: Awaited<ReturnType<typeof generateKey>> } | undefined;

beforeAll(async () => {
  const replicaPort = await freePort();
  sys = await startSystem({ REPLICA_PORT: String(replicaPort), REPLICATION_RETRY_DELAY: "1" });
  replica = `http://127.0.0.1:${replicaPort}`;
  dist = new Distribution(await freePort());
  await dist.start();
  work = mkdtempSync(path.join(tmpdir(), "replication-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  const distUrl = `http://${dist.host}`;
  distRule = (await adminJson<{ id: string }>(sys, ["replication", "add", "replicated/*", "--target", distUrl])).id;
  filterRule = (await adminJson<{ id: string }>(sys, ["replication", "add", `filtered-${sfx}/*`, "--target", distUrl, "--tags", "v*"])).id;
  // The rules reach the push path within the isolates' rule cache (5 s).
  await new Promise((r) => setTimeout(r, 5500));
}, 120_000);

afterAll(async () => {
  await sys?.stop();
  await dist?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("replication", () => {
  test("pnpm start has a replica with a ready-made rule for replicated/*", async () => {
    const { rules } = await adminJson<{ rules: { id: string; repository: string; target: { url: string; credentials: string } }[] }>(sys, ["replication", "list"]);
    expect(rules).toContainEqual(expect.objectContaining({ repository: "replicated/*", target: { url: replica, credentials: "REPLICA_CREDENTIALS" } }));
    const table = (await admin(sys, ["replication", "list"])).stdout;
    expect(table).toMatch(/ID\s+REPOSITORY\s+TAGS\s+TARGET/);
    expect((await fetch(`${replica}/v2/`)).status).toBe(401);
  });

  test("an image, its signatures (both locations), its SBOM and the SBOM's signature reach both targets", async () => {
    const digest = await push("1", APP, "one");
    const target: RegistryTarget = { baseUrl: sys.registry, auth: async (repo) => ({ Authorization: `Bearer ${await sys.token(repo)}` }) };
    const signer = await generateKey();
    const signed = await signWithSbom(target, APP, digest, signer);
    signedApp = { digest, signer };
    const sigTag = `${digest.replace(":", "-")}.sig`;
    const all = [digest, signed.tag.digest, signed.referrer.digest, signed.sbom.digest, signed.sbomSignature.digest];

    // The replica (this registry again, token auth through the robot): everything by digest, the tags, the referrers API.
    for (const d of all) await eventually(`${d} on the replica`, present(replica, APP, d, true));
    // (The referrers' own messages may copy the image by digest before its tag's message sets the tag.)
    await eventually("the tag on the replica", async () => (await manifestOf(replica, APP, "1", true)).digest === digest);
    await eventually("the .sig tag on the replica", async () => (await manifestOf(replica, APP, sigTag, true)).digest === signed.tag.digest);
    const referrers = async (base: string, d: string) => {
      const res = await fetch(`${base}/v2/${APP}/referrers/${d}`, { headers: { Authorization: `Bearer ${await pullToken(APP)}` } });
      return ((await res.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest).sort();
    };
    await eventually("the referrers on the replica", async () => (await referrers(replica, digest)).length === 2);
    expect(await referrers(replica, digest)).toEqual([signed.referrer.digest, signed.sbom.digest].sort());
    expect(await referrers(replica, signed.sbom.digest)).toEqual([signed.sbomSignature.digest]);
    const inspected = JSON.parse(await ok(["inspect", "--tls-verify=false", "--raw", `docker://${new URL(replica).host}/${APP}@${digest}`]));
    expect(inspected.layers).toHaveLength(1);
    // Anonymous pulls take the edge read path of each registry; their cached blob records must not mix (one runtime,
    // one caches.default): the layer reads whole from the replica, then from the primary, then the replica again.
    const layerDigest = (inspected.layers as { digest: string }[])[0]!.digest;
    for (const base of [replica, sys.registry, replica]) {
      const res = await fetch(`${base}/v2/${APP}/blobs/${layerDigest}`, { headers: { Authorization: `Bearer ${await pullToken(APP)}` } });
      expect(res.status).toBe(200);
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(layerDigest);
    }

    // docker-registry 2.8.2: no referrers API, so the referrers are listed under the sha256-<hex> tag schema.
    const distUrl = `http://${dist.host}`;
    for (const d of all) await eventually(`${d} on docker-registry`, present(distUrl, APP, d, false));
    await eventually("the tag on docker-registry", async () => (await manifestOf(distUrl, APP, "1", false)).digest === digest);
    await eventually("the .sig tag on docker-registry", async () => (await manifestOf(distUrl, APP, sigTag, false)).digest === signed.tag.digest);
    const schema = async (d: string) => ((await manifestOf(distUrl, APP, d.replace(":", "-"), false)).body?.manifests as { digest: string }[] | undefined)?.map((m) => m.digest).sort() ?? [];
    await eventually("the tag-schema index of the image", async () => (await schema(digest)).length === 2);
    expect(await schema(digest)).toEqual([signed.referrer.digest, signed.sbom.digest].sort());
    expect(await schema(signed.sbom.digest)).toEqual([signed.sbomSignature.digest]);
    expect(JSON.parse(await ok(["inspect", "--tls-verify=false", "--raw", `docker://${dist.host}/${APP}@${digest}`])).layers).toHaveLength(1);
  });

  test("the replica's signature policy lets the replicated signed image through and refuses an unsigned one", async () => {
    expect(signedApp).toBeDefined();
    const res = await fetch(`${replica}/admin/policies`, {
      method: "POST",
      headers: { Authorization: `Bearer ${adminToken(sys)}`, "Content-Type": "application/json" },
      body: JSON.stringify({ repository: "replicated/*", keys: [{ kind: "cosign", pem: signedApp!.signer.pem }] }),
    });
    expect(res.status).toBe(201);
    const policy = ((await res.json()) as { id: string }).id;
    try {
      await policyChecks();
    } finally {
      // The next tests read unsigned copies from the replica.
      await fetch(`${replica}/admin/policies/${policy}`, { method: "DELETE", headers: { Authorization: `Bearer ${adminToken(sys)}` } });
      await new Promise((r) => setTimeout(r, 5500)); // other isolates' policy caches (5 s)
    }
  });

  async function policyChecks(): Promise<void> {
    const host = new URL(replica).host;
    const inspect = (ref: string) => ["inspect", "--tls-verify=false", "--creds", sys.creds, "--raw", `docker://${host}/${APP}${ref}`];
    // The copy verifies on the replica like the original: by tag and by digest.
    expect(JSON.parse(await ok(inspect(":1"))).layers).toHaveLength(1);
    expect(JSON.parse(await ok(inspect(`@${signedApp!.digest}`))).layers).toHaveLength(1);
    const unsigned = await push("unsigned", APP, "nobody signed this");
    await eventually("the unsigned image on the replica", async () => (await manifestOf(replica, APP, "unsigned", true)).status !== 404);
    const refused = await fetch(`${replica}/v2/${APP}/manifests/${unsigned}`, {
      headers: { Authorization: `Bearer ${await pullToken(APP)}`, Accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(await refused.json())).toMatch(/DENIED.*signature policy/);
  }

  test("a target that is down catches up when it is back (retried with backoff, attempts recorded)", async () => {
    await dist.stop();
    const digest = await push("2", APP, "two");
    await eventually("a retrying execution", async () => (await history()).some((e) => e.rule === distRule && e.reference === "2" && e.outcome === "retrying"));
    await eventually("the replica's copy", present(replica, APP, digest, true));
    await dist.start();
    await eventually("the copy on docker-registry", present(`http://${dist.host}`, APP, digest, false), 45_000);
    await eventually("the execution ok", async () => (await history()).some((e) => e.rule === distRule && e.reference === "2" && e.outcome === "ok"));
    const done = (await history()).find((e) => e.rule === distRule && e.reference === "2")!;
    expect(done.attempts).toBeGreaterThan(1);
  }, 90_000);

  test("a rule with a tag filter copies only the tags it matches", async () => {
    const dev = await push("dev", FILTERED, "dev");
    const v1 = await push("v1", FILTERED, "v1");
    const distUrl = `http://${dist.host}`;
    await eventually("v1 on docker-registry", present(distUrl, FILTERED, v1, false));
    expect((await manifestOf(distUrl, FILTERED, "dev", false)).status).toBe(404);
    expect((await manifestOf(distUrl, FILTERED, dev, false)).status).toBe(404);
    const mine = (await history()).filter((e) => e.rule === filterRule);
    expect(mine.map((e) => e.reference)).toEqual(["v1"]);
  });

  test("pnpm admin replication history lists the executions", async () => {
    const r = await admin(sys, ["replication", "history"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/STARTED\s+RULE\s+WHAT\s+TRIGGER\s+OUTCOME\s+ATTEMPTS\s+BYTES/);
    expect(r.stdout).toContain(`${APP}:1`);
    expect(r.stdout).toMatch(/push\s+ok/);
  });
});
