import { digestOf, MediaTypes } from "@registry/core";
import { describe, expect, test } from "vitest";
import { deleteReplica, replicate } from "../src/index";
import { referrersTag } from "../src/tag-schema";
import { FakeTarget, type FakeTargetOptions, json, MemorySource } from "./fakes";

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const SIG = "application/vnd.dev.cosign.artifact.sig.v1+json";
const SBOM = "application/spdx+json";

/** A multi-platform image: an index `app:v1` of two images sharing a layer. */
async function multiPlatform(source: MemorySource) {
  const shared = bytes(300, 1);
  const amd64 = await source.addImage("app", { layers: [shared, bytes(200, 2)], platform: "amd64" });
  const arm64 = await source.addImage("app", { layers: [shared, bytes(250, 3)], platform: "arm64" });
  const index = await source.addIndex("app", [{ d: amd64, arch: "amd64" }, { d: arm64, arch: "arm64" }], "v1");
  return { amd64, arm64, index };
}

function target(options: FakeTargetOptions = {}) {
  const t = new FakeTarget(options);
  return { t, registry: { url: t.url, username: "u", password: "p" } };
}

describe("replicate", () => {
  test("copies an index with its children through a Bearer challenge: blobs, children, the index, then the tag", async () => {
    const source = new MemorySource();
    const { amd64, arm64, index } = await multiPlatform(source);
    const { t, registry } = target({ auth: "bearer" });
    const report = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch });

    expect(report).toEqual({ manifests: 3, blobsCopied: 5, blobsSkipped: 0, blobsMounted: 0, bytes: expect.any(Number), referrers: 0, tagSchema: false });
    for (const d of [amd64, arm64, index]) expect(t.manifest("app", d.digest)?.bytes).toEqual((await source.manifest("app", d.digest))?.bytes);
    expect(t.tags.get("app")?.get("v1")).toBe(index.digest);
    const writes = t.writes();
    expect(writes.at(-1)).toBe("PUT /v2/app/manifests/v1");
    const at = (s: string) => writes.findIndex((w) => w.startsWith(s));
    expect(at(`PUT /v2/app/manifests/${amd64.digest}`)).toBeLessThan(at(`PUT /v2/app/manifests/${index.digest}`));
    expect(at(`PUT /v2/app/manifests/${arm64.digest}`)).toBeLessThan(at(`PUT /v2/app/manifests/${index.digest}`));
    // One token for the repository's push scope, kept for every later request.
    expect(t.tokenRequests).toEqual(["repository:app:pull,push"]);
  });

  test("a tag given by digest pushes no tag; Basic auth works", async () => {
    const source = new MemorySource();
    const image = await source.addImage("app", { layers: [bytes(10, 9)], tag: "x" });
    const { t, registry } = target({ auth: "basic" });
    await replicate({ source, target: registry, repository: "app", targetRepository: "copy/app", reference: image.digest, referrers: false, fetch: t.fetch });
    expect(t.manifest("copy/app", image.digest)).toBeDefined();
    expect(t.tags.get("copy/app")).toBeUndefined();
  });

  test("blobs the target has are skipped; a second run writes nothing", async () => {
    const source = new MemorySource();
    await multiPlatform(source);
    const { t, registry } = target();
    await t.putBlob("app", bytes(300, 1));
    const first = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch });
    expect(first).toMatchObject({ blobsCopied: 4, blobsSkipped: 1 });
    expect(t.writes().some((w) => w.includes("?mount="))).toBe(false);
    const before = t.writes().length;
    const second = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch });
    expect(second).toEqual({ manifests: 0, blobsCopied: 0, blobsSkipped: 0, blobsMounted: 0, bytes: 0, referrers: 0, tagSchema: false });
    expect(t.writes().length).toBe(before);
  });

  test("a blob another repository of the target received is mounted", async () => {
    const source = new MemorySource();
    const layer = bytes(4000, 7);
    await source.addImage("one", { layers: [layer], tag: "a" });
    await source.addImage("two", { layers: [layer, bytes(5, 1)], tag: "b" });
    const { t, registry } = target({ auth: "bearer" });
    await replicate({ source, target: registry, repository: "one", reference: "a", referrers: false, fetch: t.fetch });
    const report = await replicate({ source, target: registry, repository: "two", reference: "b", referrers: false, fetch: t.fetch });
    expect(report.blobsMounted).toBe(2); // the layer and the shared config
    expect(t.writes().filter((w) => w.includes("mount=")).every((w) => w.includes("from=one"))).toBe(true);
    expect(t.tokenRequests).toContain("repository:two:pull,push repository:one:pull");
  });

  test("large blobs go in chunks of at least OCI-Chunk-Min-Length, each a byte range of the source", async () => {
    const source = new MemorySource();
    const big = bytes(10_000, 5);
    const image = await source.addImage("app", { layers: [big, bytes(500, 6)], tag: "v1" });
    const { t, registry } = target({ chunkMinLength: 4096 });
    const report = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: false, fetch: t.fetch, chunkSize: 1000 });
    expect(t.patches).toEqual([4096, 4096, 1808]);
    const bigDigest = [...source.blobs].find(([, b]) => b === big)?.[0];
    expect(source.ranges.filter((r) => r.digest === bigDigest).map((r) => [r.offset, r.length])).toEqual([
      [0, 4096],
      [4096, 4096],
      [8192, 1808],
    ]);
    expect(t.blob("app", bigDigest!)).toEqual(big);
    expect(t.manifest("app", image.digest)).toBeDefined();
    expect(report.bytes).toBe([...source.blobs.values()].reduce((n, b) => n + b.length, 0));
  });

  test("OCI-Chunk-Max-Length lowers the chunk size", async () => {
    const source = new MemorySource();
    await source.addImage("app", { layers: [bytes(2500, 5)], tag: "v1" });
    const { t, registry } = target({ chunkMaxLength: 1000 });
    await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: false, fetch: t.fetch, chunkSize: 64 * 1024 * 1024 });
    expect(t.patches).toEqual([1000, 1000, 500]);
  });
});

/** An image signed twice over: an OCI referrer signature with its own signature, an SBOM with a signature, a cosign .sig tag. */
async function signedImage(source: MemorySource) {
  const image = await source.addImage("app", { layers: [bytes(100, 1)], tag: "v1" });
  const signature = await source.addImage("app", { layers: [bytes(20, 2)], subject: image, artifactType: SIG, annotations: { "org.opencontainers.image.created": "2026-01-01T00:00:00Z" } });
  const counterSignature = await source.addImage("app", { layers: [bytes(21, 3)], subject: signature, artifactType: SIG });
  const sbom = await source.addImage("app", { layers: [bytes(40, 4)], subject: image, artifactType: SBOM });
  const sbomSignature = await source.addImage("app", { layers: [bytes(22, 5)], subject: sbom, artifactType: SIG });
  const cosignTag = `sha256-${image.digest.slice(7)}.sig`;
  const cosign = await source.addImage("app", { layers: [bytes(23, 6)], tag: cosignTag });
  const cosignOfCosign = await source.addImage("app", { layers: [bytes(24, 7)], tag: `sha256-${cosign.digest.slice(7)}.sig` });
  return { image, signature, counterSignature, sbom, sbomSignature, cosign, cosignTag, cosignOfCosign };
}

describe("referrers", () => {
  test("the whole referrer tree follows its subject (nested referrers, cosign tags), the tag last", async () => {
    const source = new MemorySource();
    const s = await signedImage(source);
    const { t, registry } = target({ auth: "bearer", referrersApi: true });
    const report = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch });
    expect(report).toMatchObject({ manifests: 7, referrers: 6, tagSchema: false });
    for (const d of Object.values(s)) if (typeof d !== "string") expect(t.manifest("app", d.digest)).toBeDefined();
    expect(t.tags.get("app")?.get(s.cosignTag)).toBe(s.cosign.digest);
    expect(t.tags.get("app")?.get(`sha256-${s.cosign.digest.slice(7)}.sig`)).toBe(s.cosignOfCosign.digest);
    expect(t.tags.get("app")?.has(referrersTag(s.image.digest))).toBe(false);
    const writes = t.writes();
    const at = (d: string) => writes.indexOf(`PUT /v2/app/manifests/${d}`);
    expect(at(s.image.digest)).toBeLessThan(at(s.signature.digest));
    expect(at(s.signature.digest)).toBeLessThan(at(s.counterSignature.digest));
    expect(at(s.sbom.digest)).toBeLessThan(at(s.sbomSignature.digest));
    expect(at(s.cosign.digest)).toBeLessThan(at(s.cosignTag));
    expect(writes.at(-1)).toBe("PUT /v2/app/manifests/v1");
  });

  test("a target that serves the referrers API but does not answer OCI-Subject gets the tag schema too", async () => {
    const source = new MemorySource();
    const s = await signedImage(source);
    const { t, registry } = target({ referrersApi: true, ociSubject: false });
    const report = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch });
    expect(report.tagSchema).toBe(true);
    expect(t.tags.get("app")?.has(referrersTag(s.image.digest))).toBe(true);
  });

  test("referrers: false copies the image alone", async () => {
    const source = new MemorySource();
    const s = await signedImage(source);
    const { t, registry } = target({ referrersApi: true });
    const report = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: false, fetch: t.fetch });
    expect(report).toMatchObject({ manifests: 1, referrers: 0 });
    expect(t.manifest("app", s.signature.digest)).toBeUndefined();
  });

  test("without a referrers API, each subject's referrers are listed under its sha256-<hex> tag, merged with what is there", async () => {
    const source = new MemorySource();
    const s = await signedImage(source);
    const { t, registry } = target();
    // Someone else already listed a referrer of the image under the tag schema.
    const otherBytes = json({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, artifactType: "application/x-other", config: {}, layers: [] });
    const other = { mediaType: MediaTypes.ociManifest, digest: await digestOf("sha256", otherBytes), size: otherBytes.length, artifactType: "application/x-other" };
    const existing = json({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [other] });
    const manifests = new Map<string, { bytes: Uint8Array; mediaType: string }>([[other.digest, { bytes: otherBytes, mediaType: MediaTypes.ociManifest }]]);
    manifests.set("sha256:existing", { bytes: existing, mediaType: MediaTypes.ociIndex });
    t.manifests.set("app", manifests);
    t.tags.set("app", new Map([[referrersTag(s.image.digest), "sha256:existing"]]));

    const report = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch });
    expect(report.tagSchema).toBe(true);
    const listed = (subject: string) =>
      JSON.parse(new TextDecoder().decode(t.manifest("app", referrersTag(subject))!.bytes)) as { mediaType: string; manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[] };
    const imageIndex = listed(s.image.digest);
    expect(imageIndex.mediaType).toBe(MediaTypes.ociIndex);
    expect(imageIndex.manifests.map((m) => m.digest)).toEqual([other.digest, s.signature.digest, s.sbom.digest]);
    expect(imageIndex.manifests[1]).toMatchObject({ artifactType: SIG, annotations: { "org.opencontainers.image.created": "2026-01-01T00:00:00Z" } });
    expect(listed(s.signature.digest).manifests.map((m) => m.digest)).toEqual([s.counterSignature.digest]);
    expect(listed(s.sbom.digest).manifests.map((m) => m.digest)).toEqual([s.sbomSignature.digest]);
    // Each tag-schema index is pushed after the referrers it lists.
    const writes = t.writes();
    expect(writes.indexOf(`PUT /v2/app/manifests/${s.sbom.digest}`)).toBeLessThan(writes.indexOf(`PUT /v2/app/manifests/${referrersTag(s.image.digest)}`));

    // Idempotent: a second run pushes nothing.
    const before = t.writes().length;
    await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch });
    expect(t.writes().length).toBe(before);
  });
});

describe("failures", () => {
  test("a failure mid-copy names the step and the target's error, leaves no tag, and a rerun completes the copy", async () => {
    const source = new MemorySource();
    const { arm64, index } = await multiPlatform(source);
    const { t, registry } = target({ auth: "bearer" });
    t.fail = (method, path) =>
      method === "PUT" && path === `/v2/app/manifests/${arm64.digest}`
        ? new Response(JSON.stringify({ errors: [{ code: "DENIED", message: "quota exceeded" }] }), { status: 403 })
        : undefined;
    const error = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`push manifest ${arm64.digest} to app: ${t.url} answered 403 DENIED: quota exceeded`);
    expect(t.tags.get("app")?.get("v1")).toBeUndefined();
    expect(t.manifest("app", index.digest)).toBeUndefined();

    t.fail = undefined;
    const report = await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: true, fetch: t.fetch });
    // amd64 is there already (not even looked into); arm64's blobs went up before its manifest failed.
    expect(report).toMatchObject({ manifests: 2, blobsCopied: 0, blobsSkipped: 3 });
    expect(t.tags.get("app")?.get("v1")).toBe(index.digest);
  });

  test("an upload the target refuses, and a reference the source lacks, fail clearly", async () => {
    const source = new MemorySource();
    await source.addImage("app", { layers: [bytes(10, 1)], tag: "v1" });
    const { t, registry } = target();
    t.fail = (method, path) => (method === "PUT" && path.includes("/blobs/uploads/") ? new Response("boom", { status: 500 }) : undefined);
    await expect(replicate({ source, target: registry, repository: "app", reference: "v1", referrers: false, fetch: t.fetch })).rejects.toThrow(
      /^upload blob sha256:[0-9a-f]{64} \(\d+ bytes\) to app: https:\/\/target-\d+.test answered 500$/,
    );
    await expect(replicate({ source, target: registry, repository: "app", reference: "nope", referrers: false, fetch: t.fetch })).rejects.toThrow(
      "read manifest nope of app: the source does not have it",
    );
  });

  test("a token that expires mid-upload is renewed and the streamed body sent again from the source", async () => {
    const source = new MemorySource();
    const layer = bytes(3000, 4);
    await source.addImage("app", { layers: [layer], tag: "v1" });
    const { t, registry } = target({ auth: "bearer" });
    let reads = 0;
    const blob = source.blob.bind(source);
    source.blob = async (repository, digest) => {
      const b = await blob(repository, digest);
      return (
        b && {
          size: b.size,
          read: (range) => {
            reads++;
            return b.read(range);
          },
        }
      );
    };
    let revoked = false;
    t.fail = (method, path) => {
      if (revoked || method !== "PUT" || !path.includes("/blobs/uploads/")) return undefined;
      revoked = true;
      t.revokeTokens();
      return new Response(null, { status: 401, headers: { "WWW-Authenticate": `Bearer realm="${t.url}/token",service="fake"` } });
    };
    await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: false, fetch: t.fetch });
    expect(t.tokenRequests.length).toBe(2);
    expect(reads).toBe(3); // config and layer once each, plus the body sent again
    expect(t.blob("app", await digestOf("sha256", layer))).toEqual(layer);
  });

  test("wrong credentials are reported as the token service's refusal", async () => {
    const source = new MemorySource();
    await source.addImage("app", { layers: [bytes(10, 1)], tag: "v1" });
    const t = new FakeTarget({ auth: "bearer" });
    await expect(
      replicate({ source, target: { url: t.url, username: "u", password: "wrong" }, repository: "app", reference: "v1", referrers: false, fetch: t.fetch }),
    ).rejects.toThrow(/token service answered 401/);
  });
});

describe("deleteReplica", () => {
  test("a tag is resolved and its manifest deleted by digest; absent is false", async () => {
    const source = new MemorySource();
    const image = await source.addImage("app", { layers: [bytes(10, 1)], tag: "v1" });
    const { t, registry } = target({ auth: "bearer" });
    await replicate({ source, target: registry, repository: "app", reference: "v1", referrers: false, fetch: t.fetch });
    expect(await deleteReplica({ target: registry, repository: "app", reference: "v1", fetch: t.fetch })).toBe(true);
    expect(t.log).toContain(`DELETE /v2/app/manifests/${image.digest}`);
    expect(t.manifest("app", image.digest)).toBeUndefined();
    expect(await deleteReplica({ target: registry, repository: "app", reference: "v1", fetch: t.fetch })).toBe(false);
    expect(await deleteReplica({ target: registry, repository: "app", reference: image.digest, fetch: t.fetch })).toBe(false);
  });
});
