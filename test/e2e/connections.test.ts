import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { errorCodes, httpRequest, RawConnection, type RawResponse } from "../support/raw-http";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Connections that outlive early answers, against the system as `pnpm start` runs it: a request answered
 * before its body was wanted (416 wrong offset, 401 challenge, 404 unknown session) must reach the client whole
 * and leave its connection usable — over raw sockets, as Go clients use them, and over Node's keep-alive agent.
 */

const MiB = 1024 * 1024;
let sys: RunningSystem;
let host: string;

beforeAll(async () => {
  sys = await startSystem({ BODY_IDLE_TIMEOUT: "2" });
  host = sys.host;
});
afterAll(async () => sys?.stop());

const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function startSession(repo: string): Promise<string> {
  const res = await sys.fetch(`/v2/${repo}/blobs/uploads/`, { method: "POST" });
  expect(res.status).toBe(202);
  return res.headers.get("location")!;
}

const head = (method: string, path: string, extra: string[]) => [`${method} ${path} HTTP/1.1`, `Host: ${host}`, ...extra];

/** The same connection still serves: a new upload session on it. */
async function stillServes(conn: RawConnection, token: string, repo: string): Promise<RawResponse> {
  await conn.request(head("POST", `/v2/${repo}/blobs/uploads/`, [`Authorization: Bearer ${token}`, "Content-Length: 0"]));
  const res = await conn.response();
  expect(res.status).toBe(202);
  expect(conn.error).toBeUndefined();
  return res;
}

describe("early answers on raw sockets", () => {
  test("an 8 MiB PATCH at the wrong offset → 416 with Range, then a POST on the same connection", async () => {
    const repo = "conn/offset";
    const token = (await sys.token(repo))!;
    const location = await startSession(repo);
    const conn = await RawConnection.open(sys.registry);
    const size = 8 * MiB;
    const sent = await conn.request(
      head("PATCH", location, [`Authorization: Bearer ${token}`, `Content-Range: ${MiB}-${MiB + size - 1}`, `Content-Length: ${size}`, "Content-Type: application/octet-stream"]),
      randomBytes(size),
    );
    expect(sent).toBeUndefined();
    const res = await conn.response();
    expect(res.status).toBe(416);
    expect(res.headers.range).toBe("0-0");
    expect(errorCodes(res.body)).toEqual(["BLOB_UPLOAD_INVALID"]);
    await stillServes(conn, token, repo);
    conn.close();
  });

  test("a 10 MiB PATCH without a token → the 401 challenge whole, then the next request on the same connection", async () => {
    const repo = "conn/challenge";
    const token = (await sys.token(repo))!;
    const location = await startSession(repo);
    const conn = await RawConnection.open(sys.registry);
    const size = 10 * MiB;
    await conn.request(head("PATCH", location, [`Content-Length: ${size}`, "Content-Type: application/octet-stream"]), randomBytes(size));
    const res = await conn.response();
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="[^"]+\/token",service="[^"]+",scope="repository:conn\/challenge:pull,push"/);
    expect(errorCodes(res.body)).toEqual(["UNAUTHORIZED"]);
    await stillServes(conn, token, repo);
    conn.close();
  });

  test("an 8 MiB PATCH to an unknown session → 404 BLOB_UPLOAD_UNKNOWN, then the next request on the same connection", async () => {
    const repo = "conn/unknown";
    const token = (await sys.token(repo))!;
    const conn = await RawConnection.open(sys.registry);
    const size = 8 * MiB;
    await conn.request(
      head("PATCH", `/v2/${repo}/blobs/uploads/00000000-0000-4000-8000-000000000000`, [`Authorization: Bearer ${token}`, `Content-Length: ${size}`]),
      randomBytes(size),
    );
    const res = await conn.response();
    expect(res.status).toBe(404);
    expect(errorCodes(res.body)).toEqual(["BLOB_UPLOAD_UNKNOWN"]);
    await stillServes(conn, token, repo);
    conn.close();
  });
});

describe("a keep-alive client (Node's http agent, one connection)", () => {
  test("a chunked upload of several 8 MiB chunks, one retried after a 416, all on one connection", async () => {
    const repo = "conn/agent";
    const token = (await sys.token(repo))!;
    const auth = { Authorization: `Bearer ${token}` };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const data = randomBytes(4 * 8 * MiB + 12345);
    const chunks = [0, 1, 2, 3, 4].map((i) => data.subarray(i * 8 * MiB, (i + 1) * 8 * MiB));
    const reused: boolean[] = [];
    const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: Buffer) => {
      const res = await httpRequest(sys.registry + path, { method, headers: { ...auth, ...headers }, body, agent });
      reused.push(res.reusedSocket);
      return res;
    };
    let location = (await call("POST", `/v2/${repo}/blobs/uploads/`)).headers.location!;
    let offset = 0;
    for (const [i, chunk] of chunks.entries()) {
      const range = (start: number) => ({ "Content-Range": `${start}-${start + chunk.length - 1}`, "Content-Type": "application/octet-stream" });
      if (i === 2) {
        // a retry that lands at the wrong offset (as after a lost answer): 416 says where the session stands
        const wrong = await call("PATCH", location, range(offset - chunks[1]!.length), chunk);
        expect(wrong.status).toBe(416);
        expect(wrong.headers.range).toBe(`0-${offset - 1}`);
      }
      const res = await call("PATCH", location, range(offset), chunk);
      expect(res.status).toBe(202);
      offset += chunk.length;
      expect(res.headers.range).toBe(`0-${offset - 1}`);
      location = res.headers.location!;
    }
    const digest = sha256(data);
    const put = await call("PUT", `${location}${location.includes("?") ? "&" : "?"}digest=${digest}`, { "Content-Length": "0" });
    expect(put.status).toBe(201);
    // A blob this big is sent to the runtime's own listener (blob-redirect.test.ts): the 307 is on this connection.
    const got = await call("GET", `/v2/${repo}/blobs/${digest}`);
    expect(got.status).toBe(307);
    expect(sha256((await httpRequest(got.headers.location!)).body)).toBe(digest);
    expect(reused.slice(1).every(Boolean)).toBe(true);
    agent.destroy();
  });
});

describe("framing and idle bodies, answered by the local system", () => {
  test.each([
    ["two different Content-Length headers", ["Content-Length: 3", "Content-Length: 4"]],
    ["a negative Content-Length", ["Content-Length: -1"]],
  ])("%s → 400 in the error envelope", async (_name, framing) => {
    const conn = await RawConnection.open(sys.registry);
    await conn.request(head("PUT", "/v2/conn/framing/manifests/x", framing), Buffer.from("abcd"));
    const res = await conn.response();
    expect(res.status).toBe(400);
    expect(errorCodes(res.body)).toEqual(["UNKNOWN"]);
    conn.close();
  });

  test("a PATCH body that stays idle → 408 in the envelope, and nothing of it is in the session", async () => {
    const repo = "conn/idle";
    const token = (await sys.token(repo))!;
    const location = await startSession(repo);
    const conn = await RawConnection.open(sys.registry);
    await conn.request(head("PATCH", location, [`Authorization: Bearer ${token}`, `Content-Length: ${8 * MiB}`, "Content-Range: 0-8388607"]), randomBytes(MiB));
    const res = await conn.response(15_000);
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe("close");
    expect(errorCodes(res.body)).toEqual(["BLOB_UPLOAD_INVALID"]);
    conn.close();
    const status = await sys.fetch(location);
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe("0-0");
  });
});

describe("the client's address comes from its connection", () => {
  const basic = (name: string, secret: string) => `Basic ${Buffer.from(`${name}:${secret}`).toString("base64")}`;
  const login = (secret: string, from: string, claimed?: string) =>
    httpRequest(`${sys.auth}/token?service=edge-registry&scope=repository:conn/x:pull`, {
      headers: { Authorization: basic(sys.robot.name, secret), ...(claimed ? { "CF-Connecting-IP": claimed } : {}) },
      localAddress: from,
    });

  test("wrong passwords from one address, each claiming another CF-Connecting-IP, are throttled together", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await login(`wrong-${i}`, "127.0.0.41", `198.51.100.${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses).toContain(429);
    const blocked = await login(sys.robot.secret, "127.0.0.41", "203.0.113.1");
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    // another client (another address) is not held back by the first one's failures
    const other = await login(sys.robot.secret, "127.0.0.42", "198.51.100.3");
    expect(other.status).toBe(200);
  });
});
