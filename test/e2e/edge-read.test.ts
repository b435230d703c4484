import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OciLayout } from "../support/oci-layout";
import { ok, skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * The edge read path's contract through the system as `pnpm start` runs it, with Debian's skopeo: anonymous pulls
 * are served at the edge (KV + the isolate's cache), a moved tag reaches them within EDGE_STALENESS, the pusher's
 * token (push rights) and `Cache-Control: no-cache` read the Durable Object at once, by digest nothing is ever
 * stale, and a deletion reaches anonymous pulls within the bound.
 */
const STALENESS_SEC = 2;
let sys: RunningSystem;
let work: string;
let layout: OciLayout;

beforeAll(async () => {
  sys = await startSystem({ EDGE_STALENESS: String(STALENESS_SEC) });
  work = mkdtempSync(path.join(tmpdir(), "edge-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  layout.tag(layout.image({ layers: [layout.layer("a.txt", "first\n"), layout.layer("b.txt", "shared\n")] }), "one");
  layout.tag(layout.image({ layers: [layout.layer("a.txt", "second\n"), layout.layer("b.txt", "shared\n")] }), "two");
});

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const image = (tag: string) => `docker://${sys.host}/edge/app:${tag}`;
const push = (from: string, tag: string) =>
  ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:${from}`, image(tag)]);
/** The digest anonymous skopeo resolves the tag to (no credentials: the anonymous token). */
const anonymousDigest = async (tag: string) =>
  (JSON.parse(await ok(["inspect", "--tls-verify=false", image(tag)])) as { Digest: string }).Digest;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A manifest GET by tag or digest with an anonymous token (or the robot's push token): path and digest. */
async function get(reference: string, as: "anonymous" | "pusher", headers: Record<string, string> = {}) {
  const accept = "application/vnd.oci.image.manifest.v1+json";
  const url = `/v2/edge/app/manifests/${reference}`;
  const res =
    as === "pusher"
      ? await sys.fetch(url, { headers: { Accept: accept, ...headers } })
      : await fetch(sys.registry + url, { headers: { Accept: accept, Authorization: `Bearer ${await anonymousToken()}`, ...headers } });
  await res.arrayBuffer();
  return { status: res.status, path: res.headers.get("x-read-path"), digest: res.headers.get("docker-content-digest") };
}

async function anonymousToken(): Promise<string> {
  const res = await fetch(`${sys.auth}/token?service=edge-registry&scope=repository:edge/app:pull`);
  return ((await res.json()) as { token: string }).token;
}

describe("edge read path (skopeo, the running system)", () => {
  test("anonymous pulls are served at the edge; a moved tag reaches them within the bound, the pusher at once", async () => {
    await push("one", "latest");
    const first = await anonymousDigest("latest");
    expect(await get("latest", "anonymous")).toMatchObject({ status: 200, path: "edge", digest: first });
    const pulled = path.join(work, "pulled");
    await ok(["copy", "--src-tls-verify=false", image("latest"), `dir:${pulled}`]);

    await push("two", "latest");
    const moved = await get("latest", "pusher");
    expect(moved).toMatchObject({ status: 200, path: "origin" });
    expect(moved.digest).not.toBe(first);
    expect(await get("latest", "anonymous", { "Cache-Control": "no-cache" })).toMatchObject({ path: "origin", digest: moved.digest });
    expect(await get(moved.digest!, "anonymous")).toMatchObject({ status: 200, path: "edge", digest: moved.digest });

    await sleep(STALENESS_SEC * 1000 + 200);
    expect(await anonymousDigest("latest")).toBe(moved.digest);
    expect(await get("latest", "anonymous")).toMatchObject({ path: "edge", digest: moved.digest });
  });

  test("a deleted manifest is refused to anonymous pulls within the bound, by tag and by digest", async () => {
    await push("one", "doomed");
    const digest = await anonymousDigest("doomed");
    expect(await get(digest, "anonymous")).toMatchObject({ status: 200, path: "edge" });
    await ok(["delete", "--tls-verify=false", "--creds", sys.creds, `docker://${sys.host}/edge/app@${digest}`]);
    await sleep(STALENESS_SEC * 1000 + 200);
    expect(await get(digest, "anonymous")).toMatchObject({ status: 404, path: "edge" });
    expect(await get("doomed", "anonymous")).toMatchObject({ status: 404, path: "edge" });
    const inspect = await skopeo(["inspect", "--tls-verify=false", image("doomed")]);
    expect(inspect.code).not.toBe(0);
    expect(inspect.stderr).toMatch(/manifest unknown/i);
  });
});
