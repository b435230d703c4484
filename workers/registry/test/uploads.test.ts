import { describe, expect, test } from "vitest";
import { call, errorCode, OCI_MANIFEST, pushBlob, pushImage, randomBytes, sha256, sha512 } from "./helpers";

/** Upload sessions end to end inside workerd (spec §"Pushing blobs", §"Mounting a blob"). */

async function open(repo: string): Promise<string> {
  const res = await call({ method: "POST", path: `/v2/${repo}/blobs/uploads/` });
  expect(res.status).toBe(202);
  expect(res.headers.get("oci-chunk-min-length")).toMatch(/^\d+$/);
  expect(res.headers.get("docker-upload-uuid")).toBeTruthy();
  return res.headers.get("location")!;
}

function streamOf(bytes: Uint8Array, piece = 65536): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.byteLength) return c.close();
      c.enqueue(bytes.slice(at, at + piece));
      at += piece;
    },
  });
}

async function pullBlob(repo: string, digest: string): Promise<Uint8Array> {
  const res = await call({ path: `/v2/${repo}/blobs/${digest}` });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe("chunked uploads", () => {
  test("PATCH chunks with Content-Range (with and without 'bytes '), status, then PUT", async () => {
    const repo = "up/chunks";
    const data = randomBytes(300_000);
    let loc = await open(repo);
    const parts: [number, number, string][] = [
      [0, 100_000, "bytes "],
      [100_000, 200_000, ""],
      [200_000, 300_000, "bytes "],
    ];
    for (const [a, b, prefix] of parts) {
      const res = await call({
        method: "PATCH",
        path: loc,
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Range": `${prefix}${a}-${b - 1}`,
          "Content-Length": String(b - a),
        },
        body: data.slice(a, b),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      expect(res.headers.get("range")).toBe(`0-${b - 1}`);
      loc = res.headers.get("location")!;
    }
    const st = await call({ path: loc });
    expect(st.status).toBe(204);
    expect(st.headers.get("range")).toBe(`0-${data.byteLength - 1}`);
    const digest = await sha256(data);
    const done = await call({ method: "PUT", path: `${loc}?digest=${digest}` });
    expect(done.status).toBe(201);
    expect(done.headers.get("docker-content-digest")).toBe(digest);
    expect(done.headers.get("location")).toBe(`/v2/${repo}/blobs/${digest}`);
    expect(await pullBlob(repo, digest)).toEqual(data);
    const ranged = await call({ path: `/v2/${repo}/blobs/${digest}`, headers: { Range: "bytes=99990-100009" } });
    expect(ranged.status).toBe(206);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(data.slice(99_990, 100_010));
    expect((await call({ path: loc })).status).toBe(404);
  });

  test("an out-of-order or repeated chunk is 416 with the current Range", async () => {
    const repo = "up/order";
    const loc = await open(repo);
    const first = await call({
      method: "PATCH",
      path: loc,
      headers: { "Content-Range": "0-9", "Content-Length": "10" },
      body: "0123456789",
    });
    expect(first.status).toBe(202);
    for (const range of ["0-9", "20-29"]) {
      const res = await call({
        method: "PATCH",
        path: first.headers.get("location")!,
        headers: { "Content-Range": range, "Content-Length": "10" },
        body: "abcdefghij",
      });
      expect(res.status).toBe(416);
      expect(res.headers.get("range")).toBe("0-9");
      expect(await errorCode(res)).toBe("BLOB_UPLOAD_INVALID");
    }
  });

  test("a streamed PATCH without Content-Length, larger than several R2 parts", async () => {
    const repo = "up/stream";
    const data = randomBytes(8 * 1024 * 1024 * 2 + 12345);
    const loc = await open(repo);
    const res = await call({ method: "PATCH", path: loc, body: streamOf(data), headers: {} });
    expect(res.status, await res.clone().text()).toBe(202);
    expect(res.headers.get("range")).toBe(`0-${data.byteLength - 1}`);
    const digest = await sha256(data);
    const done = await call({ method: "PUT", path: `${res.headers.get("location")}?digest=${digest}` });
    expect(done.status, await done.clone().text()).toBe(201);
    expect(await sha256(await pullBlob(repo, digest))).toBe(digest);
  });

  test("streamed chunks after a sealed multipart, then a Content-Length chunk: all joined", async () => {
    const repo = "up/mixed";
    const a = randomBytes(9 * 1024 * 1024);
    const b = randomBytes(1000);
    const c = randomBytes(5000);
    let loc = await open(repo);
    for (const [bytes, known] of [
      [a, false],
      [b, false],
      [c, true],
    ] as const) {
      const res = await call({
        method: "PATCH",
        path: loc,
        body: known ? bytes : streamOf(bytes),
        headers: known ? { "Content-Length": String(bytes.byteLength) } : {},
      });
      expect(res.status, await res.clone().text()).toBe(202);
      loc = res.headers.get("location")!;
    }
    const all = new Uint8Array(a.byteLength + b.byteLength + c.byteLength);
    all.set(a);
    all.set(b, a.byteLength);
    all.set(c, a.byteLength + b.byteLength);
    const digest = await sha256(all);
    const done = await call({ method: "PUT", path: `${loc}?digest=${digest}` });
    expect(done.status, await done.clone().text()).toBe(201);
    expect(await sha256(await pullBlob(repo, digest))).toBe(digest);
    const range = await call({
      path: `/v2/${repo}/blobs/${digest}`,
      headers: { Range: `bytes=${a.byteLength - 10}-${a.byteLength + 1009}` },
    });
    expect(range.status).toBe(206);
    const got = new Uint8Array(await range.arrayBuffer());
    expect(got).toEqual(all.slice(a.byteLength - 10, a.byteLength + 1010));
  });

  test("PUT with the last chunk as body", async () => {
    const repo = "up/lastbody";
    const loc = await open(repo);
    const p = await call({ method: "PATCH", path: loc, headers: { "Content-Length": "3" }, body: "abc" });
    const digest = await sha256("abcdef");
    const done = await call({
      method: "PUT",
      path: `${p.headers.get("location")}?digest=${digest}`,
      headers: { "Content-Length": "3", "Content-Range": "3-5" },
      body: "def",
    });
    expect(done.status, await done.clone().text()).toBe(201);
    expect(new TextDecoder().decode(await pullBlob(repo, digest))).toBe("abcdef");
  });

  test("cancel removes the session", async () => {
    const loc = await open("up/cancel");
    await call({ method: "PATCH", path: loc, headers: { "Content-Length": "3" }, body: "abc" });
    expect((await call({ method: "DELETE", path: loc })).status).toBe(204);
    const res = await call({ path: loc });
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("BLOB_UPLOAD_UNKNOWN");
  });
});

describe("verification: nothing half-written is ever visible", () => {
  test("wrong digest on finish → DIGEST_INVALID and no blob", async () => {
    const repo = "up/wrong";
    const loc = await open(repo);
    const p = await call({ method: "PATCH", path: loc, headers: { "Content-Length": "5" }, body: "hello" });
    const wrong = await sha256("world");
    const res = await call({ method: "PUT", path: `${p.headers.get("location")}?digest=${wrong}` });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
    expect((await call({ method: "HEAD", path: `/v2/${repo}/blobs/${wrong}` })).status).toBe(404);
    expect((await call({ method: "HEAD", path: `/v2/${repo}/blobs/${await sha256("hello")}` })).status).toBe(404);
  });

  test("monolithic POST with wrong digest → DIGEST_INVALID and no blob", async () => {
    const repo = "up/mono-wrong";
    const wrong = await sha256("other");
    const res = await call({
      method: "POST",
      path: `/v2/${repo}/blobs/uploads/?digest=${wrong}`,
      headers: { "Content-Length": "4" },
      body: "data",
    });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
    expect((await call({ method: "HEAD", path: `/v2/${repo}/blobs/${wrong}` })).status).toBe(404);
  });

  test("truncated body (Content-Length larger than the body) → error, no blob", async () => {
    const repo = "up/trunc";
    const digest = await sha256("0123456789");
    const stream = streamOf(new TextEncoder().encode("01234"));
    const res = await call({
      method: "POST",
      path: `/v2/${repo}/blobs/uploads/?digest=${digest}`,
      headers: { "Content-Length": "10" },
      body: stream,
    }).catch(() => null);
    if (res) expect(res.status).toBeGreaterThanOrEqual(400);
    if (res) expect(res.status).toBeLessThan(500);
    expect((await call({ method: "HEAD", path: `/v2/${repo}/blobs/${digest}` })).status).toBe(404);
  });
});

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
