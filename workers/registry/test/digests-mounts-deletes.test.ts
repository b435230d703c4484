import { describe, expect, test } from "vitest";
import { call, OCI_MANIFEST, openUpload as open, pullBlob, pushBlob, pushImage, randomBytes, sha256, sha512 } from "./helpers";

/** Blobs and manifests addressed by sha512, cross-repository mount, referrers before their subject, deletes (spec §"Pushing blobs", §"Mounting a blob", §"Listing referrers", §"Deleting"). */

describe("sha512", () => {
  test("monolithic and chunked uploads addressed by sha512, and a manifest by sha512", async () => {
    const repo = "up/sha512";
    const data = randomBytes(70_000);
    const d512 = await sha512(data);
    const mono = await call({
      method: "POST",
      path: `/v2/${repo}/blobs/uploads/?digest=${d512}`,
      headers: { "Content-Length": String(data.byteLength) },
      body: data,
    });
    expect(mono.status, await mono.clone().text()).toBe(201);
    expect(mono.headers.get("docker-content-digest")).toBe(d512);
    const head = await call({ method: "HEAD", path: `/v2/${repo}/blobs/${d512}` });
    expect(head.headers.get("docker-content-digest")).toBe(d512);
    expect(head.headers.get("content-length")).toBe(String(data.byteLength));

    const other = randomBytes(50_000);
    const o512 = await sha512(other);
    let loc = await open(repo);
    for (const [a, b] of [
      [0, 20_000],
      [20_000, 50_000],
    ] as const) {
      const r = await call({
        method: "PATCH",
        path: loc,
        headers: { "Content-Range": `${a}-${b - 1}`, "Content-Length": String(b - a) },
        body: other.slice(a, b),
      });
      loc = r.headers.get("location")!;
    }
    const fin = await call({ method: "PUT", path: `${loc}?digest=${o512}` });
    expect(fin.status, await fin.clone().text()).toBe(201);
    expect(fin.headers.get("docker-content-digest")).toBe(o512);
    expect(await sha512(await pullBlob(repo, o512))).toBe(o512);

    const config = await pushBlob(repo, "{}");
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config, size: 2 },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: d512, size: data.byteLength }],
    });
    const m512 = await sha512(manifest);
    const put = await call({ method: "PUT", path: `/v2/${repo}/manifests/${m512}`, headers: { "Content-Type": OCI_MANIFEST }, body: manifest });
    expect(put.status, await put.clone().text()).toBe(201);
    expect(put.headers.get("docker-content-digest")).toBe(m512);
    const get = await call({ path: `/v2/${repo}/manifests/${m512}` });
    expect(get.headers.get("docker-content-digest")).toBe(m512);
    expect(await get.text()).toBe(manifest);
  });
});

describe("mount, referrers before subject, deletes", () => {
  test("cross-repository mount reports the blob's own digest and size", async () => {
    const data = "mounted blob";
    const digest = await pushBlob("mnt/src", data);
    const res = await call({ method: "POST", path: `/v2/mnt/dst/blobs/uploads/?mount=${digest}&from=mnt/src` });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v2/mnt/dst/blobs/${digest}`);
    const head = await call({ method: "HEAD", path: `/v2/mnt/dst/blobs/${digest}` });
    expect(head.headers.get("docker-content-digest")).toBe(digest);
    expect(head.headers.get("content-length")).toBe(String(data.length));
    const nofrom = await call({ method: "POST", path: `/v2/mnt/third/blobs/uploads/?mount=${digest}` });
    expect(nofrom.status).toBe(201);
    const missing = await call({ method: "POST", path: `/v2/mnt/dst/blobs/uploads/?mount=${await sha256("nope")}&from=mnt/src` });
    expect(missing.status).toBe(202);
    expect(missing.headers.get("location")).toMatch(/^\/v2\/mnt\/dst\/blobs\/uploads\//);
  });

  test("a referrer pushed before its subject is listed, and OCI-Subject is returned", async () => {
    const repo = "ref/early";
    const subject = `sha256:${"a".repeat(64)}`;
    const config = await pushBlob(repo, "{}");
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.sbom",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: config, size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: subject, size: 123 },
    });
    const put = await call({ method: "PUT", path: `/v2/${repo}/manifests/sbom`, headers: { "Content-Type": OCI_MANIFEST }, body });
    expect(put.status, await put.clone().text()).toBe(201);
    expect(put.headers.get("oci-subject")).toBe(subject);
    const list = await call({ path: `/v2/${repo}/referrers/${subject}` });
    const index = (await list.json()) as { manifests: { digest: string; artifactType: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([await sha256(body)]);
    expect(index.manifests[0]!.artifactType).toBe("application/vnd.example.sbom");
  });

  test("delete a tag, a manifest by digest (its tags go too), a blob", async () => {
    const repo = "del/app";
    const img = await pushImage(repo, "a", ["del layer"]);
    await call({ method: "PUT", path: `/v2/${repo}/manifests/b`, headers: { "Content-Type": OCI_MANIFEST }, body: img.body });
    await call({ method: "PUT", path: `/v2/${repo}/manifests/c`, headers: { "Content-Type": OCI_MANIFEST }, body: img.body });
    expect((await call({ method: "DELETE", path: `/v2/${repo}/manifests/a` })).status).toBe(202);
    expect((await call({ path: `/v2/${repo}/manifests/a` })).status).toBe(404);
    expect((await call({ path: `/v2/${repo}/manifests/b` })).status).toBe(200);
    expect((await call({ method: "DELETE", path: `/v2/${repo}/manifests/${img.digest}` })).status).toBe(202);
    expect((await call({ path: `/v2/${repo}/manifests/b` })).status).toBe(404);
    expect((await call({ path: `/v2/${repo}/manifests/${img.digest}` })).status).toBe(404);
    const tags = (await (await call({ path: `/v2/${repo}/tags/list` })).json()) as { tags: string[] };
    expect(tags.tags).toEqual([]);
    const layer = await sha256("del layer");
    expect((await call({ method: "DELETE", path: `/v2/${repo}/blobs/${layer}` })).status).toBe(202);
    expect((await call({ method: "HEAD", path: `/v2/${repo}/blobs/${layer}` })).status).toBe(404);
  });

  test("an empty blob", async () => {
    const digest = await pushBlob("up/empty", "");
    const res = await call({ path: `/v2/up/empty/blobs/${digest}` });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("0");
    expect(await res.text()).toBe("");
  });
});
