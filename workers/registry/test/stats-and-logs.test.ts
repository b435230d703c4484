import { env } from "cloudflare:test";
import { afterEach, describe, expect, test, vi } from "vitest";
import worker, { type Env } from "../src/index";
import { BASE, OCI_MANIFEST, pushImage } from "./helpers";

/**
 * Issue 12 §2 and §3: pull statistics on the admin API (/admin/stats, /admin/stats/<repository>) after pulls
 * through the worker, and the one JSON log line per request with its request id (also `X-Request-Id`).
 */
const testEnv = { ...(env as unknown as Env), ADMIN_TOKEN: "secret" };
const send = (path: string, init: RequestInit = {}) => worker.fetch(new Request(BASE + path, init), testEnv);
const admin = (path: string) => send(path, { headers: { Authorization: "Bearer secret" } });
const pull = (repo: string, ref: string) => send(`/v2/${repo}/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });

/** The JSON lines the worker logged while `work` ran. */
async function loggedLines(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const spy = vi.spyOn(console, "log").mockImplementation(() => {});
  try {
    await work();
    return spy.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>).filter((l) => "requestId" in l);
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("pull statistics on the admin API", () => {
  test("repositories with tags, manifests and pulls, paged; a repository's tags with pulls, pulled and pushed times", async () => {
    await pushImage("stats/a", "v1", ["a1"]);
    await pushImage("stats/a", "v2", ["a2"]);
    await pushImage("stats/b", "latest", ["b1"]);
    expect((await pull("stats/a", "v1")).status).toBe(200); // the first pull of an isolate's batch is written at once
    expect((await pull("stats/b", "latest")).status).toBe(200);

    const page = await admin("/admin/stats?n=100");
    expect(page.status).toBe(200);
    const { repositories } = (await page.json()) as { repositories: { name: string; tags: number; manifests: number; pulls: number }[] };
    const a = repositories.find((r) => r.name === "stats/a");
    expect(a).toMatchObject({ tags: 2, manifests: 2 });
    expect(a!.pulls).toBeGreaterThanOrEqual(1);

    const first = (await (await admin("/admin/stats?n=1")).json()) as { repositories: unknown[]; next: string | null };
    expect(first.repositories).toHaveLength(1);
    expect(first.next).toBeTypeOf("string");

    const res = await admin("/admin/stats/stats/a?n=1");
    expect(res.status).toBe(200);
    const detail = (await res.json()) as { repository: string; totals: { tags: number }; tags: Record<string, unknown>[]; next: string | null };
    expect(detail.repository).toBe("stats/a");
    expect(detail.totals.tags).toBe(2);
    expect(detail.tags).toHaveLength(1);
    expect(detail.tags[0]).toMatchObject({ name: "v1", pulls: 1, mediaType: OCI_MANIFEST });
    expect(detail.tags[0]!.pulledAt).toBeTypeOf("number");
    expect(detail.tags[0]!.pushedAt).toBeTypeOf("number");
    expect(detail.next).toBe("v1");
    const rest = (await (await admin("/admin/stats/stats/a?last=v1")).json()) as { tags: { name: string; pulls: number; pulledAt: unknown }[] };
    expect(rest.tags).toEqual([expect.objectContaining({ name: "v2", pulls: 0, pulledAt: null })]);
  });

  test("404 for an unknown repository, 400 for a bad name or page size, 401 without the token", async () => {
    expect((await admin("/admin/stats/stats/none")).status).toBe(404);
    expect((await admin("/admin/stats/Not..A..Name")).status).toBe(400);
    expect((await admin("/admin/stats?n=0")).status).toBe(400);
    expect((await send("/admin/stats")).status).toBe(401);
  });
});

describe("the request log", () => {
  test("one JSON line per request: route name, repository, status, error code, bytes, duration, client, subject, id", async () => {
    await pushImage("logs/app", "v1", ["l1"]);
    const responses: Response[] = [];
    const lines = await loggedLines(async () => {
      responses.push(await send("/v2/logs/app/manifests/v1", { headers: { Accept: OCI_MANIFEST, "CF-Connecting-IP": "192.0.2.7" } }));
      responses.push(await send("/v2/logs/app/manifests/nope"));
      responses.push(await send("/v2/logs/app/blobs/uploads/", { method: "POST", headers: { "cf-ray": "8f00aa-AMS" } }));
    });
    expect(lines).toHaveLength(3);
    const [got, missing, upload] = lines;
    expect(got).toMatchObject({ worker: "registry", method: "GET", route: "manifest.get", repository: "logs/app", status: 200, error: null });
    expect(got).toMatchObject({ client: "192.0.2.7", subject: "anonymous", readPath: responses[0]!.headers.get("X-Read-Path") });
    expect(got!.bytesOut).toBe(Number(responses[0]!.headers.get("Content-Length")));
    expect(got!.durationMs).toBeTypeOf("number");
    expect(got!.requestId).toBe(responses[0]!.headers.get("X-Request-Id"));
    expect(missing).toMatchObject({ route: "manifest.get", status: 404, error: "MANIFEST_UNKNOWN" });
    expect(missing!.requestId).toBe(responses[1]!.headers.get("X-Request-Id"));
    expect(missing!.requestId).not.toBe(got!.requestId);
    // Behind Cloudflare the edge's ray id is the request id.
    expect(upload).toMatchObject({ route: "blob.upload.start", requestId: "8f00aa-AMS", status: 202 });
    expect(responses[2]!.headers.get("X-Request-Id")).toBe("8f00aa-AMS");
  });

  test("an unmatched path is logged as such; the admin API as admin", async () => {
    const lines = await loggedLines(async () => {
      await send("/v2/");
      await send("/v3/nothing");
      await admin("/admin/stats?n=1");
    });
    expect(lines.map((l) => [l.route, l.status])).toEqual([
      ["base", 200],
      ["unmatched", 404],
      ["admin", 200],
    ]);
  });
});
