import { env } from "cloudflare:test";
import { withPullLimit, type PullCounter } from "@registry/ratelimit";
import { afterEach, describe, expect, test, vi } from "vitest";
import { FakeUpstream, imageManifest, mirror, OCI_MANIFEST } from "./fake-upstream";

/**
 * Only manifests actually served count against the pull limit: a manifest GET that ends in 4xx/5xx costs the
 * client nothing, and a client over its limit is refused before the upstream is asked.
 */

const counters = (env as unknown as { PULL_COUNTER: DurableObjectNamespace<PullCounter> }).PULL_COUNTER;
const remaining = (res: Response) => res.headers.get("ratelimit-remaining");
let n = 0;
const address = () => `198.18.0.${++n}`;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("through the mirror", () => {
  const limits = { RATE_LIMIT_ANONYMOUS: "3", RATE_LIMIT_WINDOW: "3600" };

  test("failed pulls are free (unknown tag, upstream down or stalled, denied, unknown upstream); served ones count", async () => {
    const upstream = new FakeUpstream().install();
    await upstream.putManifest("counted/app", "v1", imageManifest("e"));
    const ip = address();
    const pull = (path: string, method = "GET") =>
      mirror(path, { method, headers: { Accept: OCI_MANIFEST, "CF-Connecting-IP": ip } }, limits);
    expect(remaining(await pull("/v2/counted/app/manifests/v1", "HEAD"))).toBe("3;w=3600");

    const failures: [string, number, FakeUpstream["fault"]][] = [
      ["/v2/counted/app/manifests/no-such-tag", 404, undefined],
      ["/v2/counted/app/manifests/not-cached", 502, () => new Response(null, { status: 500 })],
      ["/v2/counted/app/manifests/not-cached", 503, () => new Response(null, { status: 503 })],
      ["/v2/counted/app/manifests/not-cached", 504, () => new Promise<Response>(() => undefined)],
      ["/v2/counted/app/manifests/not-cached", 403, () => new Response(null, { status: 403 })],
      ["/v2/counted/app/manifests/not-cached", 429, () => new Response(null, { status: 429 })],
      ["/v2/counted/app/manifests/v1?ns=not.mirrored.example", 403, undefined],
      ["/v2/counted/app/manifests/v1?ns=not.mirrored.example", 403, undefined],
    ];
    for (const [path, status, fault] of failures) {
      upstream.fault = fault;
      const res = await pull(path);
      expect(res.status, path).toBe(status);
      expect(remaining(res), `${path} → ${status}`).toBe("3;w=3600");
    }
    upstream.fault = undefined;

    const served = await pull("/v2/counted/app/manifests/v1");
    expect(served.status).toBe(200);
    expect(remaining(served)).toBe("2;w=3600");
    expect(remaining(await pull("/v2/counted/app/manifests/v1", "HEAD"))).toBe("2;w=3600");
  });

  test("a client over its limit gets 429 before the upstream is asked", async () => {
    const upstream = new FakeUpstream().install();
    await upstream.putManifest("limited/app", "v1", imageManifest("f"));
    const ip = address();
    const pull = (tag: string) => mirror(`/v2/limited/app/manifests/${tag}`, { headers: { "CF-Connecting-IP": ip } }, { RATE_LIMIT_ANONYMOUS: "1" });
    expect((await pull("v1")).status).toBe(200);
    const asked = upstream.requests.length;
    const over = await pull("v2");
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    // Rendered by the /v2 app's one error renderer, like every other error of the mirror.
    expect(over.headers.get("content-type")).toBe("application/json");
    expect(over.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect(((await over.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("TOOMANYREQUESTS");
    expect(remaining(over)).toBe("0;w=21600");
    expect(upstream.requests.length).toBe(asked);
  });
});

describe("the middleware", () => {
  const limited = (answer: () => Promise<Response>, limit = 3) =>
    withPullLimit(answer, { counters, anonymousLimit: limit, accountLimit: limit, windowSec: 60 });
  const get = (handler: (r: Request) => Promise<Response>, ip: string) =>
    handler(new Request("http://r.test/v2/a/manifests/x", { headers: { "CF-Connecting-IP": ip } }));

  test.each([
    [200, true],
    [304, true],
    [404, false],
    [401, false],
    [403, false],
    [500, false],
    [502, false],
    [504, false],
  ])("a manifest GET answered %i counts: %s", async (status, counts) => {
    const ip = address();
    const handler = limited(async () => new Response(null, { status }));
    const res = await get(handler, ip);
    expect(res.status).toBe(status);
    expect(remaining(res)).toBe(counts ? "2;w=60" : "3;w=60");
  });

  test("a handler that throws gives the pull back", async () => {
    const ip = address();
    const failing = limited(async () => Promise.reject(new Error("boom")));
    await expect(get(failing, ip)).rejects.toThrow("boom");
    expect(remaining(await get(limited(async () => new Response("{}")), ip))).toBe("2;w=60");
  });

  test("exact under concurrency: of 6 concurrent pulls with 3 left, 3 are served and 3 refused", async () => {
    const ip = address();
    const slow = limited(() => new Promise((r) => setTimeout(() => r(new Response("{}")), 50)));
    const statuses = (await Promise.all(Array.from({ length: 6 }, () => get(slow, ip)))).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
  });

  test("concurrent failures give every pull back", async () => {
    const ip = address();
    const notFound = limited(() => new Promise((r) => setTimeout(() => r(new Response(null, { status: 404 })), 20)));
    await Promise.all(Array.from({ length: 3 }, () => get(notFound, ip)));
    expect(remaining(await get(limited(async () => new Response("{}")), ip))).toBe("2;w=60");
  });
});
