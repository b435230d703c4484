/**
 * Against a real target with no referrers API: Debian's docker-registry (distribution 2.8.2) on a free loopback
 * port with filesystem storage in a temporary folder. Skipped, saying so, when the binary is not installed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { digestOf, MediaTypes } from "@registry/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { deleteReplica, replicate } from "../src/index";
import { referrersTag } from "../src/tag-schema";
import { json, MemorySource } from "./fakes";

const BINARY = "/usr/bin/docker-registry";
const present = existsSync(BINARY);
if (!present) console.warn(`replication: ${BINARY} is not installed (apt-get install docker-registry): the docker-registry 2.8.2 test is skipped`);

const ACCEPT = [MediaTypes.ociIndex, MediaTypes.ociManifest, MediaTypes.dockerManifest, MediaTypes.dockerManifestList].join(", ");
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed * 13 + (i >> 8)) & 0xff);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe.skipIf(!present)("replication to docker-registry 2.8.2 (no referrers API)", () => {
  let dir = "";
  let child: ChildProcess | undefined;
  let base = "";

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "replication-distribution-"));
    const port = await freePort();
    const config = path.join(dir, "config.yml");
    writeFileSync(
      config,
      [
        "version: 0.1",
        "log: { level: error, accesslog: { disabled: true } }",
        `storage: { filesystem: { rootdirectory: ${path.join(dir, "data")} }, delete: { enabled: true } }`,
        `http: { addr: 127.0.0.1:${port} }`,
        "",
      ].join("\n"),
    );
    child = spawn(BINARY, ["serve", config], { stdio: "ignore" });
    base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await fetch(`${base}/v2/`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`docker-registry did not start on ${base}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(() => {
    child?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("an index with two platforms, a cosign .sig tag and an OCI referrer arrive whole; the referrer is listed under sha256-<hex>", async () => {
    const source = new MemorySource();
    const repo = "replicated/app";
    const amd64 = await source.addImage(repo, { layers: [bytes(200_000, 1), bytes(1000, 2)], platform: "amd64" });
    const arm64 = await source.addImage(repo, { layers: [bytes(150_000, 3)], platform: "arm64" });
    const index = await source.addIndex(repo, [{ d: amd64, arch: "amd64" }, { d: arm64, arch: "arm64" }], "v1");
    // cosign's tag scheme: a simple-signing payload layer with the signature annotation, tagged sha256-<hex>.sig.
    const payload = json({ critical: { identity: { "docker-reference": repo }, image: { "docker-manifest-digest": index.digest }, type: "cosign container image signature" }, optional: null });
    const payloadDescriptor = await source.addBlob(payload, "application/vnd.dev.cosign.simplesigning.v1+json");
    const config = await source.addBlob(json({ architecture: "", os: "", rootfs: { type: "layers", diff_ids: [] } }), MediaTypes.ociConfig);
    const sigTag = `sha256-${index.digest.slice(7)}.sig`;
    const cosign = await source.addManifest(
      repo,
      {
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config,
        layers: [{ ...payloadDescriptor, annotations: { "dev.cosignproject.cosign/signature": "MEUCIQDfake" } }],
      },
      sigTag,
    );
    // An OCI 1.1 referrer (an SBOM) with the empty config and a subject.
    const empty = await source.addBlob(new TextEncoder().encode("{}"), MediaTypes.ociEmpty);
    const spdx = await source.addBlob(json({ spdxVersion: "SPDX-2.3" }), "application/spdx+json");
    const sbom = await source.addManifest(repo, {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      artifactType: "application/spdx+json",
      config: empty,
      layers: [spdx],
      subject: { mediaType: index.mediaType, digest: index.digest, size: index.size },
      annotations: { "org.opencontainers.image.created": "2026-11-30T00:00:00Z" },
    });

    const target = { url: base };
    const report = await replicate({ source, target, repository: repo, reference: "v1", referrers: true, chunkSize: 64 * 1024 });
    expect(report).toMatchObject({ manifests: 5, referrers: 2, tagSchema: true, blobsSkipped: 0 });
    expect(report.blobsCopied).toBe(source.blobs.size);
    expect(source.ranges.length).toBeGreaterThan(3); // the large layers went in 64 KiB chunks

    // Everything reads back by digest, byte for byte.
    for (const d of [amd64, arm64, index, cosign, sbom]) {
      const res = await fetch(`${base}/v2/${repo}/manifests/${d.digest}`, { headers: { Accept: ACCEPT } });
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual((await source.manifest(repo, d.digest))!.bytes);
    }
    for (const [digest, content] of source.blobs) {
      const res = await fetch(`${base}/v2/${repo}/blobs/${digest}`);
      expect(res.status).toBe(200);
      expect(await digestOf("sha256", new Uint8Array(await res.arrayBuffer()))).toBe(digest);
      expect(Number(res.headers.get("Content-Length"))).toBe(content.length);
    }
    const tagged = async (tag: string) => (await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: "HEAD", headers: { Accept: ACCEPT } })).headers.get("Docker-Content-Digest");
    expect(await tagged("v1")).toBe(index.digest);
    expect(await tagged(sigTag)).toBe(cosign.digest);

    // The OCI referrers tag schema lists the SBOM under the index's sha256-<hex> tag.
    const listing = await fetch(`${base}/v2/${repo}/manifests/${referrersTag(index.digest)}`, { headers: { Accept: MediaTypes.ociIndex } });
    expect(listing.status).toBe(200);
    const listed = (await listing.json()) as { mediaType: string; manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[] };
    expect(listed.mediaType).toBe(MediaTypes.ociIndex);
    expect(listed.manifests).toEqual([
      { mediaType: MediaTypes.ociManifest, digest: sbom.digest, size: sbom.size, artifactType: "application/spdx+json", annotations: { "org.opencontainers.image.created": "2026-11-30T00:00:00Z" } },
    ]);

    // Idempotent: a second run finds everything there and pushes nothing.
    const again = await replicate({ source, target, repository: repo, reference: "v1", referrers: true });
    expect(again).toMatchObject({ manifests: 0, blobsCopied: 0, referrers: 0 });

    // A replicated deletion: the tag resolves to the index, deleted by digest.
    expect(await deleteReplica({ target, repository: repo, reference: "v1" })).toBe(true);
    expect(await tagged("v1")).toBeNull();
    expect(await deleteReplica({ target, repository: repo, reference: index.digest })).toBe(false);
  });
});
