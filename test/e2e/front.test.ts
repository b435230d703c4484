import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
// @ts-expect-error -- plain ESM script without types
import { DRAIN_LIMIT, startFront } from "../../scripts/front.mjs";
import { errorCodes, httpRequest, RawConnection } from "../support/raw-http";

/**
 * The local front (scripts/front.mjs) alone, against a stand-in for workerd: `/early` answers from the request
 * head alone and stops reading (half-closes and drops the rest), `/reset` answers and closes its socket with
 * the body unread, which makes the kernel send a TCP reset (what workerd does when a worker leaves a body
 * unread). Whatever the runtime does, the client gets a whole answer and either keeps its connection (the rest
 * of its body drained) or is told `Connection: close` and sees a graceful close — never a reset.
 */

let upstream: net.Server;
let front: net.Server;
let url: string;

/** Answers GET and `/echo` once the whole body arrived (echoing the request head), anything else early. */
function fakeWorkerd(socket: net.Socket): void {
  let buf = Buffer.alloc(0);
  let done = false;
  socket.on("data", (d: Buffer) => {
    if (done) return;
    buf = Buffer.concat([buf, d]);
    const end = buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const [line = "", ...rest] = buf.subarray(0, end).toString("latin1").split("\r\n");
    const headers = Object.fromEntries(rest.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
    if (line.startsWith("GET") || line.includes("/echo")) {
      const length = Number(headers["content-length"] ?? 0);
      if (buf.length < end + 4 + length) return;
      buf = buf.subarray(end + 4 + length);
      const body = JSON.stringify({ line, headers });
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    done = true;
    const early = JSON.stringify({ errors: [{ code: "BLOB_UPLOAD_INVALID", message: "early", detail: null }] });
    socket.write(`HTTP/1.1 416 Range Not Satisfiable\r\nRange: 0-0\r\nContent-Type: application/json\r\nContent-Length: ${early.length}\r\n\r\n${early}`);
    if (line.includes("/reset")) socket.destroy();
    else socket.end();
  });
  socket.on("error", () => undefined);
}

beforeAll(async () => {
  upstream = net.createServer(fakeWorkerd);
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  const { port } = upstream.address() as net.AddressInfo;
  front = await startFront({ host: "127.0.0.1", port: 0, target: `http://127.0.0.1:${port}`, bodyIdleMs: 1000 });
  url = `http://127.0.0.1:${(front.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => front?.close(r));
  await new Promise((r) => upstream?.close(r));
});

const patch = (size: number, path = "/early") => [`PATCH ${path} HTTP/1.1`, `Host: h`, `Content-Range: 5-${5 + size - 1}`, `Content-Length: ${size}`];

describe("early answers from the runtime", () => {
  test("8 MiB body answered early: the answer arrives whole and the next request uses the same connection", async () => {
    const conn = await RawConnection.open(url);
    const size = 8 * 1024 * 1024;
    expect(await conn.request(patch(size), Buffer.alloc(size, 1))).toBeUndefined();
    const first = await conn.response();
    expect(first.status).toBe(416);
    expect(first.headers.range).toBe("0-0");
    expect(first.headers.connection).not.toBe("close");
    expect(errorCodes(first.body)).toEqual(["BLOB_UPLOAD_INVALID"]);
    await conn.request([`GET /v2/ HTTP/1.1`, `Host: h`]);
    const second = await conn.response();
    expect(second.status).toBe(200);
    expect(conn.error).toBeUndefined();
    conn.close();
  });

  test("a rest larger than the drain limit: Connection: close, then a graceful close, never a reset", async () => {
    const conn = await RawConnection.open(url);
    const size = DRAIN_LIMIT + 16 * 1024 * 1024;
    await conn.request(patch(size));
    // send in pieces, as a client does, while the answer comes back
    const piece = Buffer.alloc(1024 * 1024, 2);
    let writeError: Error | undefined;
    for (let sent = 0; sent < size && !writeError && !conn.ended; sent += piece.length) writeError = await conn.write(piece);
    const answer = await conn.response();
    expect(answer.status).toBe(416);
    expect(answer.headers.connection).toBe("close");
    await new Promise((r) => setTimeout(r, 200));
    expect(conn.ended).toBe(true);
    expect(conn.error).toBeUndefined();
    conn.close();
  });

  test("the runtime resets before its answer is read: a whole answer in the envelope and a graceful close", async () => {
    const conn = await RawConnection.open(url);
    const size = 8 * 1024 * 1024;
    await conn.request(patch(size, "/reset"), Buffer.alloc(size, 3));
    const answer = await conn.response();
    expect([416, 502]).toContain(answer.status);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(errorCodes(answer.body).length).toBe(1);
    expect(conn.error).toBeUndefined();
    conn.close();
  });
});

describe("the client's address and framing", () => {
  test("CF-Connecting-IP is the socket's peer address, whatever the client claims", async () => {
    const res = await httpRequest(`${url}/v2/`, { headers: { "CF-Connecting-IP": "203.0.113.9" }, localAddress: "127.0.0.9" });
    const echoed = JSON.parse(res.body.toString()) as { headers: Record<string, string> };
    expect(echoed.headers["cf-connecting-ip"]).toBe("127.0.0.9");
  });

  test.each([
    ["two different Content-Length headers", ["Content-Length: 3", "Content-Length: 5"]],
    ["a negative Content-Length", ["Content-Length: -5"]],
    ["Content-Length and chunked together", ["Content-Length: 3", "Transfer-Encoding: chunked"]],
  ])("%s → 400 in the error envelope", async (_name, framing) => {
    const conn = await RawConnection.open(url);
    await conn.request([`PUT /v2/x/echo HTTP/1.1`, `Host: h`, ...framing], Buffer.from("abc"));
    const res = await conn.response();
    expect(res.status).toBe(400);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(errorCodes(res.body)).toEqual(["UNKNOWN"]);
    conn.close();
  });

  test("a garbage request line → 400 in the envelope; a TLS ClientHello → an immediate 400", async () => {
    const conn = await RawConnection.open(url);
    await conn.write("NOT HTTP AT ALL\r\n\r\n");
    expect((await conn.response()).status).toBe(400);
    conn.close();
    const tls = await RawConnection.open(url);
    await tls.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    expect((await tls.response(2000)).status).toBe(400);
    tls.close();
  });

  test("a body that stays idle past the timeout → 408 in the envelope, connection closed", async () => {
    const conn = await RawConnection.open(url);
    await conn.request([`PUT /v2/x/echo HTTP/1.1`, `Host: h`, `Content-Length: 100`], Buffer.alloc(10));
    const res = await conn.response(5000);
    expect(res.status).toBe(408);
    expect(res.headers.connection).toBe("close");
    expect(errorCodes(res.body)).toEqual(["BLOB_UPLOAD_INVALID"]);
    conn.close();
  });
});
