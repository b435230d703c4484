import { env } from "cloudflare:test";
import { withPullLimit, type PullCounter } from "@registry/ratelimit";
import { expect, test } from "vitest";

/** The pull limiter inside workerd with its real Durable Object (the registry can switch it on). */

const counters = (env as unknown as { PULL_COUNTER: DurableObjectNamespace<PullCounter> }).PULL_COUNTER;
const ok = async () => new Response("{}", { headers: { "Content-Type": "application/json" } });

test("manifest GETs count, HEAD and blobs do not; 429 past the limit", async () => {
  const limited = withPullLimit(ok, { counters, anonymousLimit: 2, accountLimit: 5, windowSec: 60 });
  const req = (method: string, path: string, ip = "192.0.2.1") =>
    limited(new Request(`http://r.test${path}`, { method, headers: { "CF-Connecting-IP": ip, "X-Forwarded-For": "10.9.9.9" } }));
  expect((await req("GET", `/v2/a/blobs/sha256:${"0".repeat(64)}`)).headers.get("ratelimit-remaining")).toBeNull();
  expect((await req("HEAD", "/v2/a/manifests/x")).headers.get("ratelimit-remaining")).toBe("2;w=60");
  expect((await req("GET", "/v2/a/manifests/x")).headers.get("ratelimit-remaining")).toBe("1;w=60");
  expect((await req("GET", "/v2/b/c/manifests/y")).headers.get("ratelimit-remaining")).toBe("0;w=60");
  const over = await req("GET", "/v2/a/manifests/x");
  expect(over.status).toBe(429);
  expect(over.headers.get("retry-after")).toMatch(/^\d+$/);
  expect(over.headers.get("docker-ratelimit-source")).toBe("192.0.2.1");
  expect((await req("HEAD", "/v2/a/manifests/x")).status).toBe(200);
  expect((await req("GET", "/v2/a/manifests/x", "192.0.2.2")).status).toBe(200);
});

test("only served manifests count: a GET answered 404 costs nothing", async () => {
  const notFound = async () => new Response(null, { status: 404 });
  const missing = withPullLimit(notFound, { counters, anonymousLimit: 1, accountLimit: 1, windowSec: 60 });
  const found = withPullLimit(ok, { counters, anonymousLimit: 1, accountLimit: 1, windowSec: 60 });
  const req = () => new Request("http://r.test/v2/a/manifests/nope", { headers: { "CF-Connecting-IP": "192.0.2.60" } });
  for (let i = 0; i < 3; i++) {
    const res = await missing(req());
    expect(res.status).toBe(404);
    expect(res.headers.get("ratelimit-remaining")).toBe("1;w=60");
  }
  expect((await found(req())).headers.get("ratelimit-remaining")).toBe("0;w=60");
  expect((await missing(req())).status).toBe(429);
});

test("accounts are counted apart from addresses, with their own limit", async () => {
  const limited = withPullLimit(ok, {
    counters,
    anonymousLimit: 1,
    accountLimit: 3,
    windowSec: 60,
    account: async (r) => r.headers.get("X-Test-Account"),
  });
  const req = (account?: string) =>
    limited(new Request("http://r.test/v2/a/manifests/x", { headers: { "CF-Connecting-IP": "192.0.2.50", ...(account ? { "X-Test-Account": account } : {}) } }));
  expect((await req("ci")).headers.get("ratelimit-limit")).toBe("3;w=60");
  expect((await req("ci")).headers.get("docker-ratelimit-source")).toBe("ci");
  expect((await req()).status).toBe(200);
  expect((await req()).status).toBe(429);
  expect((await req("ci")).status).toBe(200);
  expect((await req("ci")).status).toBe(429);
});
