import { afterEach, describe, expect, test, vi } from "vitest";
import { breaking, FakeUpstream, imageManifest, mirror, OCI_MANIFEST, stalling } from "./fake-upstream";

/**
 * An upstream that is unreachable, fails, stalls or refuses: the client gets the OCI error envelope with a
 * gateway status and a message naming the upstream — never the runtime's error text — and nothing
 * half-arrived is cached. Each case pulls a repository of its own.
 */

const realFetch = globalThis.fetch.bind(globalThis);
const UPSTREAM = "upstream docker.io (http://upstream.test)";
let n = 0;
const repo = () => `failing/r${++n}`;

afterEach(() => {
  vi.unstubAllGlobals();
});

interface Expected {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

const gateway = (status: number, what: string): Expected => ({ status, code: "UNKNOWN", message: `${UPSTREAM} ${what}` });
const never = () => new Promise<Response>(() => undefined);

const cases: [string, (request: Request) => Response | Promise<Response> | undefined, Expected][] = [
  ["connection refused", (r) => realFetch(`http://127.0.0.1:9${new URL(r.url).pathname}`), gateway(502, "is unreachable: connection refused or lost")],
  ["host not found", () => realFetch("http://no-such-host.invalid/v2/"), gateway(502, "is unreachable: connection failed")],
  ["answers 500", () => new Response("oops", { status: 500 }), gateway(502, "answered 500")],
  ["answers 502", () => new Response("bad gateway", { status: 502 }), gateway(502, "answered 502")],
  ["answers 503", () => new Response(null, { status: 503 }), gateway(503, "answered 503")],
  ["answers 400", () => new Response(null, { status: 400 }), gateway(502, "answered 400")],
  ["never answers", never, gateway(504, "timed out after 1 s")],
  [
    "429 with Retry-After",
    () => new Response(null, { status: 429, headers: { "Retry-After": "7" } }),
    { status: 429, code: "TOOMANYREQUESTS", message: `${UPSTREAM} is rate-limiting this mirror`, headers: { "retry-after": "7" } },
  ],
  ["403", () => new Response(null, { status: 403 }), { status: 403, code: "DENIED", message: `${UPSTREAM} refused access to failing/r` }],
];

describe("a manifest pulled by tag, nothing cached", () => {
  test.each(cases)("upstream %s", async (_, fault, expected) => {
    new FakeUpstream().install().fault = fault;
    const name = repo();
    const res = await mirror(`/v2/${name}/manifests/latest`, { headers: { Accept: OCI_MANIFEST } });
    expect(res.status).toBe(expected.status);
    expect(res.headers.get("content-type")).toBe("application/json");
    for (const [k, v] of Object.entries(expected.headers ?? {})) expect(res.headers.get(k)).toBe(v);
    const body = (await res.json()) as { errors: { code: string; message: string; detail: unknown }[] };
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.code).toBe(expected.code);
    expect(body.errors[0]!.message).toContain(expected.message);
    expect(body.errors[0]!.detail).toEqual({ upstream: "docker.io" });
    expect(JSON.stringify(body)).not.toMatch(/internal error|Network connection lost|TypeError|at .*\.ts/);

    const head = await mirror(`/v2/${name}/manifests/latest`, { method: "HEAD" });
    expect(head.status).toBe(expected.status);
    expect(await head.text()).toBe("");
  });
});

describe("bodies", () => {
  test("a manifest body that stalls: 504", async () => {
    new FakeUpstream().install().fault = (r) =>
      r.method === "GET" ? new Response(stalling(new TextEncoder().encode('{"schemaVersion"')), { headers: { "Content-Type": OCI_MANIFEST } }) : undefined;
    const upstream = new FakeUpstream();
    const res = await mirror(`/v2/${repo()}/manifests/sha256:${"a".repeat(64)}`);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(`${UPSTREAM} sent nothing more of its answer for 1 s`);
    expect(upstream.requests).toEqual([]);
  });

  test("a manifest body that breaks off: 502", async () => {
    new FakeUpstream().install().fault = () => new Response(breaking(new TextEncoder().encode("{")), { headers: { "Content-Type": OCI_MANIFEST } });
    const res = await mirror(`/v2/${repo()}/manifests/sha256:${"b".repeat(64)}`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(`${UPSTREAM} dropped the connection in the middle of its answer`);
  });

  test("a manifest whose bytes do not match its digest: 502, not cached", async () => {
    const upstream = new FakeUpstream().install();
    const name = repo();
    await upstream.putManifest(name, "v1", imageManifest("c"));
    upstream.fault = (r) => (r.url.includes("/manifests/sha256:") ? new Response("{}", { headers: { "Content-Type": OCI_MANIFEST } }) : undefined);
    const res = await mirror(`/v2/${name}/manifests/v1`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/^upstream docker\.io \(http:\/\/upstream\.test\) sent a manifest whose digest is/);
    upstream.fault = undefined;
    expect((await mirror(`/v2/${name}/manifests/v1`)).status).toBe(200);
  });

  test("a blob that stalls mid-stream: the client is cut off, nothing is cached, the next pull fetches it whole", async () => {
    const upstream = new FakeUpstream().install();
    const bytes = new Uint8Array(300_000).fill(5);
    const digest = await upstream.putBlob(bytes);
    const name = repo();
    upstream.fault = (r) =>
      r.method === "GET" ? new Response(stalling(bytes.subarray(0, 100_000)), { headers: { "Content-Length": String(bytes.byteLength) } }) : undefined;
    const cut = await mirror(`/v2/${name}/blobs/${digest}`);
    expect(cut.status).toBe(200);
    await expect(cut.arrayBuffer()).rejects.toThrow();
    await cut.settled();
    upstream.fault = undefined;
    const before = upstream.requests.length;
    const whole = await mirror(`/v2/${name}/blobs/${digest}`);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(bytes);
    await whole.settled();
    expect(upstream.requests.slice(before)).toEqual([`GET /v2/${name}/blobs/${digest}`]);
  });

  test("a blob of unknown length that stalls (filled before it is served): 504 and nothing cached", async () => {
    const upstream = new FakeUpstream().install();
    const bytes = new Uint8Array(50_000).fill(9);
    const digest = await upstream.putBlob(bytes);
    const name = repo();
    upstream.fault = (r) => (r.method === "GET" ? new Response(stalling(bytes.subarray(0, 10_000))) : undefined);
    const res = await mirror(`/v2/${name}/blobs/${digest}`);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("UNKNOWN");
    await res.settled();
    upstream.fault = undefined;
    const whole = await mirror(`/v2/${name}/blobs/${digest}`);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(bytes);
  });

  test("a pull that waits on another's fill gets that fill's upstream failure, not a 404", async () => {
    const upstream = new FakeUpstream().install();
    const bytes = new Uint8Array(50_000).fill(4);
    const digest = await upstream.putBlob(bytes);
    const path = `/v2/${repo()}/blobs/${digest}`;
    upstream.fault = (r) => (r.method === "GET" ? new Response(stalling(bytes.subarray(0, 10_000))) : undefined);
    const first = mirror(path);
    while (!upstream.requests.includes(`GET ${path}`)) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    const second = await mirror(path);
    expect([(await first).status, second.status]).toEqual([504, 504]);
    expect(upstream.requests.filter((r) => r === `GET ${path}`)).toHaveLength(1);
  });

  test("a corrupt blob filled before it is served (a range): 502, not a client error", async () => {
    const upstream = new FakeUpstream().install();
    const bytes = new Uint8Array(20_000).fill(1);
    const digest = await upstream.putBlob(bytes);
    upstream.fault = (r) => (r.method === "GET" ? new Response(new Uint8Array(20_000).fill(2)) : undefined);
    const res = await mirror(`/v2/${repo()}/blobs/${digest}`, { headers: { Range: "bytes=0-9" } });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(`${UPSTREAM} sent other bytes for blob ${digest}`);
  });
});

describe("stale content while the upstream fails", () => {
  test.each([
    ["answers 500", () => new Response(null, { status: 500 })],
    ["never answers", never],
    ["is unreachable", () => Promise.reject(new Error("Network connection lost."))],
  ])("a cached tag is served when the upstream %s", async (_, fault) => {
    const upstream = new FakeUpstream().install();
    const name = repo();
    const digest = await upstream.putManifest(name, "v1", imageManifest("d"));
    expect((await mirror(`/v2/${name}/manifests/v1`)).status).toBe(200);
    upstream.fault = fault;
    const stale = await mirror(`/v2/${name}/manifests/v1`);
    expect(stale.status).toBe(200);
    expect(stale.headers.get("docker-content-digest")).toBe(digest);
  });
});

test("the time limit comes from UPSTREAM_TIMEOUT, and an upstream's own `timeout` overrides it", async () => {
  new FakeUpstream().install().fault = never;
  const global = await mirror(`/v2/${repo()}/manifests/x`, {}, { UPSTREAM_TIMEOUT: "2" });
  expect(((await global.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(`${UPSTREAM} timed out after 2 s`);
  const own = await mirror(`/v2/${repo()}/manifests/x`, {}, { UPSTREAMS: JSON.stringify({ "docker.io": { url: FakeUpstream.URL, timeout: 0.5 } }) });
  expect(((await own.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(`${UPSTREAM} timed out after 0.5 s`);
});
