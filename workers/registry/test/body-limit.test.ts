import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import worker, { type Env } from "../src/index";
import { BASE, call, randomBytes, sha256 } from "./helpers";

/**
 * MAX_REQUEST_BODY as the registry worker wires it (the same worker and local R2 as the other tests, the var set
 * here): bodies over the limit get 413 SIZE_INVALID naming it — a declared length before anything is read, a
 * chunked body once it passes the limit — the upload session stays at its last good offset, and a new session
 * advertises the limit as OCI-Chunk-Max-Length.
 */

const MiB = 1024 * 1024;
const LIMIT = 10 * MiB;
const limited: Env = { ...(env as unknown as Env), MAX_REQUEST_BODY: String(LIMIT) };

function fetchLimited(path: string, init: RequestInit = {}): Promise<Response> {
  return worker.fetch(new Request(BASE + path, init), limited);
}

/** A body without Content-Length (chunked, as docker and containerd PATCH), as a byte stream or a plain one. */
function chunked(bytes: Uint8Array, byteStream: boolean, piece = 256 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  const pull = (c: ReadableStreamDefaultController<Uint8Array> | ReadableByteStreamController) => {
    if (at >= bytes.byteLength) {
      c.close();
      if ("byobRequest" in c) c.byobRequest?.respond(0);
      return;
    }
    c.enqueue(bytes.slice(at, at + piece));
    at += piece;
  };
  return byteStream ? new ReadableStream({ type: "bytes", pull }) : new ReadableStream({ pull });
}

async function open(repo: string): Promise<string> {
  const res = await fetchLimited(`/v2/${repo}/blobs/uploads/`, { method: "POST" });
  expect(res.status).toBe(202);
  return res.headers.get("location")!;
}

async function patch(loc: string, body: Uint8Array, how: "length" | "chunked" | "bytes"): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
  if (how === "length") headers["Content-Length"] = String(body.byteLength);
  return fetchLimited(loc, { method: "PATCH", headers, body: how === "length" ? body : chunked(body, how === "bytes") });
}

async function expectTooLarge(res: Response, length?: number): Promise<void> {
  expect(res.status).toBe(413);
  const { errors } = (await res.json()) as { errors: { code: string; message: string; detail: { limit: number; length?: number } }[] };
  expect(errors[0]!.code).toBe("SIZE_INVALID");
  expect(errors[0]!.message).toContain(`limit of ${LIMIT} bytes`);
  expect(errors[0]!.message).toContain(`chunks of at most ${LIMIT} bytes`);
  expect(errors[0]!.detail).toEqual(length === undefined ? { limit: LIMIT } : { limit: LIMIT, length });
}

/** Finishes the upload at `loc` as `data`'s digest, then reads the blob back whole and checks its digest. */
async function expectBlob(repo: string, loc: string, data: Uint8Array): Promise<void> {
  const digest = await sha256(data);
  const done = await fetchLimited(`${loc}?digest=${digest}`, { method: "PUT" });
  expect(done.status, await done.clone().text()).toBe(201);
  const pulled = await fetchLimited(`/v2/${repo}/blobs/${digest}`);
  expect(pulled.status).toBe(200);
  expect(await sha256(new Uint8Array(await pulled.arrayBuffer()))).toBe(digest);
}

async function offset(loc: string): Promise<string | null> {
  const res = await fetchLimited(loc);
  expect(res.status).toBe(204);
  return res.headers.get("range");
}

describe("MAX_REQUEST_BODY", () => {
  test("a new session advertises OCI-Chunk-Max-Length beside OCI-Chunk-Min-Length; without the limit it does not", async () => {
    const res = await fetchLimited("/v2/limit/adv/blobs/uploads/", { method: "POST" });
    expect(res.status).toBe(202);
    expect(res.headers.get("oci-chunk-max-length")).toBe(String(LIMIT));
    expect(Number(res.headers.get("oci-chunk-min-length"))).toBeGreaterThan(0);
    const unlimited = await call({ method: "POST", path: "/v2/limit/adv/blobs/uploads/" });
    expect(unlimited.status).toBe(202);
    expect(unlimited.headers.get("oci-chunk-max-length")).toBeNull();
  });

  test("a Content-Length over the limit is refused before the body is read (PATCH, PUT, POST ?digest=)", async () => {
    const loc = await open("limit/declared");
    // A body that fails when read: any attempt to store it would not end in a clean 413.
    const unreadable = () =>
      new ReadableStream<Uint8Array>({
        pull: (c) => c.error(new Error("the body was read")),
      });
    const over = { "Content-Length": String(LIMIT + 1), "Content-Type": "application/octet-stream" };
    const digest = await sha256("x");
    for (const [method, path] of [
      ["PATCH", loc],
      ["PUT", `${loc}?digest=${digest}`],
      ["POST", `/v2/limit/declared/blobs/uploads/?digest=${digest}`],
    ] as const) {
      const res = await fetchLimited(path, { method, headers: over, body: unreadable() });
      await expectTooLarge(res, LIMIT + 1);
    }
    expect(await offset(loc)).toBe("0-0");
    expect((await fetchLimited(`/v2/limit/declared/blobs/${digest}`, { method: "HEAD" })).status).toBe(404);
  });

  for (const how of ["chunked", "bytes"] as const) {
    test(`a ${how === "bytes" ? "byte-stream" : "plain-stream"} chunked PATCH over the limit: 413, the session stays resumable at its last good offset`, async () => {
      const repo = `limit/${how}`;
      const data = randomBytes(12 * MiB);
      const loc = await open(repo);
      expect((await patch(loc, data.subarray(0, MiB), "length")).status).toBe(202);
      // One full R2 part: the multipart stays open for the next chunk.
      expect((await patch(loc, data.subarray(MiB, 9 * MiB), how)).status).toBe(202);
      // 20 MiB more: another part reaches R2 before the limit is passed, and must not count.
      await expectTooLarge(await patch(loc, randomBytes(20 * MiB), how));
      expect(await offset(loc)).toBe(`0-${9 * MiB - 1}`);
      // Resumed at that offset: a chunked piece (overwrites the failed chunk's part), then one with a length.
      const res = await fetchLimited(loc, {
        method: "PATCH",
        headers: { "Content-Range": `${9 * MiB}-${11 * MiB - 1}` },
        body: chunked(data.subarray(9 * MiB, 11 * MiB), how === "bytes"),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      expect(res.headers.get("range")).toBe(`0-${11 * MiB - 1}`);
      expect((await patch(loc, data.subarray(11 * MiB), "length")).status).toBe(202);
      await expectBlob(repo, loc, data);
    });
  }

  test("a chunked PATCH that closed the previous chunk's multipart, then passed the limit: the next chunk still completes it", async () => {
    const repo = "limit/closed";
    const data = randomBytes(10 * MiB);
    const loc = await open(repo);
    expect((await patch(loc, data.subarray(0, 8 * MiB), "bytes")).status).toBe(202);
    await expectTooLarge(await patch(loc, randomBytes(LIMIT + 1), "bytes"));
    expect(await offset(loc)).toBe(`0-${8 * MiB - 1}`);
    expect((await patch(loc, data.subarray(8 * MiB), "bytes")).status).toBe(202);
    await expectBlob(repo, loc, data);
  });

  test("a first chunked PATCH over the limit leaves the session at 0, and it starts over", async () => {
    const loc = await open("limit/fresh");
    await expectTooLarge(await patch(loc, randomBytes(LIMIT + 1), "bytes"));
    expect(await offset(loc)).toBe("0-0");
    const data = randomBytes(3 * MiB);
    const res = await fetchLimited(loc, { method: "PATCH", headers: { "Content-Range": `0-${data.byteLength - 1}` }, body: chunked(data, true) });
    expect(res.status).toBe(202);
    const digest = await sha256(data);
    expect((await fetchLimited(`${loc}?digest=${digest}`, { method: "PUT" })).status).toBe(201);
  });

  test("bodies up to the limit pass: PATCH of exactly the limit, chunked or not, and a monolithic POST ?digest=", async () => {
    const data = randomBytes(LIMIT);
    for (const how of ["length", "bytes"] as const) {
      const loc = await open(`limit/under-${how}`);
      const res = await patch(loc, data, how);
      expect(res.status, await res.clone().text()).toBe(202);
      expect(res.headers.get("range")).toBe(`0-${LIMIT - 1}`);
    }
    const digest = await sha256(data);
    const res = await fetchLimited(`/v2/limit/under/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      headers: { "Content-Length": String(LIMIT), "Content-Type": "application/octet-stream" },
      body: data,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
  });

  test("an empty MAX_REQUEST_BODY is no limit; garbage fails every request, never a silent no-limit", async () => {
    const none = await worker.fetch(new Request(`${BASE}/v2/limit/none/blobs/uploads/`, { method: "POST" }), { ...limited, MAX_REQUEST_BODY: "" });
    expect(none.status).toBe(202);
    expect(none.headers.get("oci-chunk-max-length")).toBeNull();
    const bad = () => worker.fetch(new Request(`${BASE}/v2/limit/bad/blobs/uploads/`, { method: "POST" }), { ...limited, MAX_REQUEST_BODY: "100MB" });
    await expect(bad()).rejects.toThrow(/MAX_REQUEST_BODY must be a number of bytes/);
  });
});
