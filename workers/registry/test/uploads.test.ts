import { describe, expect, test } from "vitest";
import { call, errorCode, openUpload as open, pullBlob, randomBytes, sha256 } from "./helpers";

/** Upload sessions end to end inside workerd (spec §"Pushing blobs", §"Mounting a blob"). */

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
