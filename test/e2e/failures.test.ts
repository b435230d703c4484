import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Bad input against the running system: the right code and status in the JSON envelope, never a 5xx,
 * and nothing half-written left visible.
 */

let sys: RunningSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => sys?.stop());

const sha256 = (b: string | Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const url = (p: string) => sys.registry + p;

async function code(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

describe("failures leave nothing behind", () => {
  test("wrong digest on a chunked upload", async () => {
    const start = await sys.fetch(url("/v2/fail/app/blobs/uploads/"), { method: "POST" });
    expect(start.status).toBe(202);
    const loc = start.headers.get("location")!;
    const patch = await sys.fetch(url(loc), { method: "PATCH", body: "some bytes", headers: { "Content-Type": "application/octet-stream" } });
    expect(patch.status).toBe(202);
    const wrong = sha256("other bytes");
    const put = await sys.fetch(url(`${patch.headers.get("location")}?digest=${wrong}`), { method: "PUT" });
    expect(put.status).toBe(400);
    expect(await code(put)).toBe("DIGEST_INVALID");
    for (const d of [wrong, sha256("some bytes")]) {
      expect((await sys.fetch(url(`/v2/fail/app/blobs/${d}`), { method: "HEAD" })).status).toBe(404);
    }
  });

  test("truncated upload: a client that dies mid-body", async () => {
    const digest = sha256(Buffer.alloc(100_000, 7));
    const net = await import("node:net");
    const token = await sys.token("fail/trunc");
    const { hostname, port } = new URL(sys.registry);
    await new Promise<void>((resolve) => {
      const s = net.connect(Number(port), hostname, () => {
        s.write(
          `POST /v2/fail/trunc/blobs/uploads/?digest=${digest} HTTP/1.1\r\nHost: ${sys.host}\r\nAuthorization: Bearer ${token}\r\nContent-Length: 100000\r\n\r\n`,
        );
        s.write(Buffer.alloc(50_000, 7));
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 300);
      });
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await sys.fetch(url(`/v2/fail/trunc/blobs/${digest}`), { method: "HEAD" })).status).toBe(404);
  });

  test.each([
    ["GET", "/v2/UPPER/case/tags/list", 400, "NAME_INVALID"],
    ["POST", "/v2/-bad-/blobs/uploads/", 400, "NAME_INVALID"],
    ["GET", `/v2/fail/app/blobs/sha256:${"z".repeat(64)}`, 400, "DIGEST_INVALID"],
    ["GET", "/v2/fail/app/manifests/sha999:abc", 400, "DIGEST_INVALID"],
    ["PUT", "/v2/fail/app/manifests/latest", 400, "MANIFEST_INVALID"],
    ["GET", "/v2/fail/none/manifests/latest", 404, "MANIFEST_UNKNOWN"],
  ])("%s %s → %i %s", async (method, path, status, expected) => {
    const res = await sys.fetch(url(path), {
      method,
      ...(method === "PUT" ? { body: "garbage", headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } } : {}),
    });
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await code(res)).toBe(expected);
  });

  test("blobs are never compressed on the fly, whatever Accept-Encoding says", async () => {
    const body = Buffer.alloc(200_000, "a");
    const digest = sha256(body);
    const put = await sys.fetch(url(`/v2/fail/gz/blobs/uploads/?digest=${digest}`), { method: "POST", body });
    expect(put.status).toBe(201);
    const http = await import("node:http");
    const gzToken = await sys.token("fail/gz");
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      http
        .get(url(`/v2/fail/gz/blobs/${digest}`), { headers: { "Accept-Encoding": "gzip", Authorization: `Bearer ${gzToken}` } }, (res) => {
          res.resume();
          resolve(res.headers);
        })
        .on("error", reject);
    });
    expect(headers["content-encoding"]).toBeUndefined();
    expect(headers["content-length"]).toBe(String(body.byteLength));
    expect(headers["content-type"]).toBe("application/octet-stream");
  });
});
