import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { adminApi, adminRun, pullsCompletely, type Run, suffix } from "../support/lifecycle";
import { type Descriptor, MT, OciLayout } from "../support/oci-layout";
import { skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Garbage collection under load (issue 10 §5): for a bounded time, pushers (raw HTTP: uploads, cross-repository
 * mounts, re-tags; and skopeo), a deleter (manifests by digest, tags alone) and GC runs with grace 0 (every other
 * one with deleteUntagged, some dry; a second start at once gets a 409 while the first runs) all work on the same
 * repositories and a shared pool of layers. A push racing a sweep may fail with MANIFEST_BLOB_UNKNOWN, and the pusher retries; no request
 * may get a 5xx. Afterwards, and again after a last GC on the quiet registry: every tag pulls completely (each
 * blob there with its digest), and no manifest still served names a missing blob.
 */
const DURATION_MS = 30_000;
const sfx = suffix();
const REPOS = [0, 1, 2, 3].map((i) => `st-${sfx}/r${i}`);
const TAGS = ["t0", "t1", "t2", "t3", "t4"];

let sys: RunningSystem;
let work: string;
let layout: OciLayout;
/** The shared layers: descriptor, diff_id and bytes. */
let pool: { desc: Descriptor; diffId: string; bytes: Buffer }[];

beforeAll(async () => {
  sys = await startSystem();
  work = mkdtempSync(path.join(tmpdir(), "gc-stress-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  pool = Array.from({ length: 24 }, (_, i) => {
    const l = layout.layer(`pool-${i}.bin`, Buffer.concat([Buffer.from(`${sfx} pool ${i}\n`), randomBytes(2048 + ((i * 997) % 12) * 1024)]));
    return { ...l, bytes: readFileSync(path.join(layout.blobs, l.desc.digest.slice(7))) };
  });
});

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What went wrong: every 5xx, every answer no race explains, every client failure. */
const failures: string[] = [];
const stats = { pushes: 0, blobUnknown: 0, retags: 0, mounts: 0, deletes: 0, skopeo: 0, gcStarted: 0, gc409: 0 };
/** Every manifest pushed: repository → digests (checked at the end when still served). */
const pushed = new Map<string, Set<string>>(REPOS.map((r) => [r, new Set()]));

/** A request as the local robot; a 5xx is recorded as a failure. */
async function call(what: string, p: string, init: RequestInit = {}, token?: string): Promise<Response> {
  const res = token
    ? await fetch(sys.registry + p, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` } })
    : await sys.fetch(p, init);
  if (res.status >= 500) failures.push(`${what}: ${res.status} ${await res.clone().text()}`);
  return res;
}

const mountTokens = new Map<string, Promise<string>>();
/** A token that may push to `repo` and pull from `from` (a mount needs both). */
function mountToken(repo: string, from: string): Promise<string> {
  const key = `${repo} ${from}`;
  let t = mountTokens.get(key);
  if (!t) {
    const scopes = [`repository:${repo}:pull,push,delete`, `repository:${from}:pull`].map((s) => `scope=${encodeURIComponent(s)}`).join("&");
    const basic = Buffer.from(sys.creds).toString("base64");
    t = fetch(`${sys.auth}/token?service=edge-registry&${scopes}`, { headers: { Authorization: `Basic ${basic}` } }).then(
      async (r) => ((await r.json()) as { token: string }).token,
    );
    mountTokens.set(key, t);
  }
  return t;
}

/** Makes sure `repo` links the blob: HEAD, else a mount from another repository (sometimes), else an upload. */
async function ensureBlob(repo: string, digest: string, bytes: Buffer): Promise<void> {
  if ((await call("blob HEAD", `/v2/${repo}/blobs/${digest}`, { method: "HEAD" })).status === 200) return;
  let location: string | null = null;
  if (Math.random() < 0.4) {
    const from = pick(REPOS.filter((r) => r !== repo));
    const token = await mountToken(repo, from);
    const res = await call("mount", `/v2/${repo}/blobs/uploads/?mount=${digest}&from=${from}`, { method: "POST" }, token);
    await res.arrayBuffer();
    if (res.status === 201) {
      stats.mounts++;
      return;
    }
    if (res.status !== 202) failures.push(`mount ${repo} ${digest}: ${res.status}`);
    location = res.headers.get("location");
  }
  if (!location) {
    const res = await call("upload POST", `/v2/${repo}/blobs/uploads/`, { method: "POST" });
    await res.arrayBuffer();
    if (res.status !== 202) failures.push(`upload POST ${repo}: ${res.status}`);
    location = res.headers.get("location");
  }
  if (!location) return;
  const url = new URL(location, sys.registry);
  url.searchParams.set("digest", digest);
  const put = await call("upload PUT", url.pathname + url.search, {
    method: "PUT",
    body: bytes,
    headers: { "Content-Type": "application/octet-stream", "Content-Length": String(bytes.length) },
  });
  const text = await put.text();
  if (put.status !== 201) failures.push(`upload PUT ${repo} ${digest}: ${put.status} ${text}`);
}

/** PUT a manifest; true when stored, false on MANIFEST_BLOB_UNKNOWN (a sweep took a blob: retry), else a failure. */
async function putManifest(repo: string, tag: string, body: string, mediaType: string): Promise<boolean> {
  const res = await call("manifest PUT", `/v2/${repo}/manifests/${tag}`, { method: "PUT", body, headers: { "Content-Type": mediaType } });
  const text = await res.text();
  if (res.status === 201) {
    pushed.get(repo)!.add(sha256(body));
    return true;
  }
  if (res.status === 400 && text.includes("MANIFEST_BLOB_UNKNOWN")) {
    stats.blobUnknown++;
    return false;
  }
  failures.push(`manifest PUT ${repo}:${tag}: ${res.status} ${text}`);
  return true;
}

/** A new image over 1–3 pool layers and sometimes a layer of its own, pushed by HTTP (retried after a race). */
async function pushNew(repo: string, tag: string): Promise<void> {
  const layers = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => pick(pool));
  const unique = [...new Map(layers.map((l) => [l.desc.digest, l])).values()];
  if (Math.random() < 0.3) {
    // A real tar+gzip layer (skopeo recompresses a "gzip" layer that is not one when it pulls).
    const l = layout.layer("own.bin", randomBytes(1024 + Math.floor(Math.random() * 4096)));
    unique.push({ ...l, bytes: readFileSync(path.join(layout.blobs, l.desc.digest.slice(7))) });
  }
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["/bin/true"], Env: [`N=${randomBytes(4).toString("hex")}`] }, rootfs: { type: "layers", diff_ids: unique.map((l) => l.diffId) } }),
  );
  const configDesc = { mediaType: MT.config, digest: sha256(config), size: config.length };
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config: configDesc, layers: unique.map((l) => l.desc) });
  for (let attempt = 0; attempt < 6; attempt++) {
    await ensureBlob(repo, configDesc.digest, config);
    for (const l of unique) await ensureBlob(repo, l.desc.digest, l.bytes);
    if (await putManifest(repo, tag, manifest, MT.manifest)) {
      stats.pushes++;
      return;
    }
  }
  failures.push(`push ${repo}:${tag}: MANIFEST_BLOB_UNKNOWN six times in a row`);
}

/** A tag move without uploads: the manifest of one tag put under another (it may have gone meanwhile). */
async function retag(repo: string): Promise<void> {
  const from = pick(TAGS);
  const got = await call("manifest GET", `/v2/${repo}/manifests/${from}`, { headers: { Accept: MT.manifest } });
  const body = await got.text();
  if (got.status === 404) return;
  if (got.status !== 200) {
    failures.push(`manifest GET ${repo}:${from}: ${got.status} ${body}`);
    return;
  }
  await putManifest(repo, pick(TAGS), body, MT.manifest);
  stats.retags++;
}

/** Deletes a manifest by digest or a tag alone. */
async function deleteSome(): Promise<void> {
  const repo = pick(REPOS);
  const tag = pick(TAGS);
  let target = tag;
  if (Math.random() < 0.5) {
    const head = await call("manifest HEAD", `/v2/${repo}/manifests/${tag}`, { method: "HEAD", headers: { Accept: MT.manifest } });
    const digest = head.headers.get("docker-content-digest");
    if (head.status !== 200 || !digest) return;
    target = digest;
  }
  const res = await call("DELETE", `/v2/${repo}/manifests/${target}`, { method: "DELETE" });
  const text = await res.text();
  if (res.status === 202) stats.deletes++;
  else if (res.status !== 404) failures.push(`DELETE ${repo}/manifests/${target}: ${res.status} ${text}`);
}

/** An image over pool layers (and one of its own) pushed by skopeo from the layout; retried after a race. */
async function skopeoPush(n: number): Promise<void> {
  const layers = [pick(pool), layout.layer(`own-${n}.bin`, randomBytes(2048))];
  const desc = layout.image({ layers: [...new Map(layers.map((l) => [l.desc.digest, l])).values()] });
  layout.tag(desc, `s${n}`);
  const repo = pick(REPOS);
  const tag = pick(TAGS);
  let last = "";
  for (let attempt = 0; attempt < 8; attempt++) {
    const r = await skopeo(["copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:s${n}`, `docker://${sys.host}/${repo}:${tag}`]);
    if (r.code === 0) {
      pushed.get(repo)!.add(desc.digest);
      stats.skopeo++;
      return;
    }
    if (/blob unknown/i.test(r.stderr)) {
      stats.blobUnknown++;
      last = r.stderr;
      continue;
    }
    failures.push(`skopeo push ${repo}:${tag}: ${r.stderr}`);
    return;
  }
  failures.push(`skopeo push ${repo}:${tag}: blob unknown eight times in a row, the last:\n${last}`);
}

/** Starts GC runs (grace 0) one after another; a 409 while one runs is expected. */
async function startGc(n: number): Promise<void> {
  // Twice in a row: the second finds the first under way (409) unless it has already ended.
  for (const options of [{ deleteUntagged: n % 2 === 1, dryRun: n % 5 === 4 }, { deleteUntagged: false, dryRun: false }]) {
    const r = await adminApi(sys, "POST", "/admin/gc", { graceSeconds: 0, ...options });
    if (r.status === 202) stats.gcStarted++;
    else if (r.status === 409) stats.gc409++;
    else failures.push(`POST /admin/gc: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

async function until(deadline: number, body: (i: number) => Promise<void>, pauseMs = 0): Promise<void> {
  for (let i = 0; Date.now() < deadline; i++) {
    await body(i);
    if (pauseMs) await sleep(pauseMs);
  }
}

/** Waits for the run under way (if any) to end. */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { body } = await adminApi(sys, "GET", "/admin/gc/runs?n=1");
    const [last] = (body as { runs: Run[] }).runs;
    if (last?.status !== "running") return;
    await sleep(200);
  }
  throw new Error("the last GC run did not end within 2 minutes");
}

/** Every tag of every repository pulls whole over HTTP; every manifest still served has all its blobs, intact. */
async function checkRegistry(): Promise<number> {
  let tagged = 0;
  const verified = new Set<string>();
  const checkManifest = async (repo: string, ref: string) => {
    const res = await sys.fetch(`/v2/${repo}/manifests/${ref}`, { headers: { Accept: MT.manifest } });
    const body = await res.text();
    if (res.status === 404) return false;
    expect([repo, ref, res.status]).toEqual([repo, ref, 200]);
    const m = JSON.parse(body) as { config: Descriptor; layers: Descriptor[] };
    for (const d of [m.config, ...m.layers]) {
      if (verified.has(`${repo} ${d.digest}`)) continue;
      const blob = await sys.fetch(`/v2/${repo}/blobs/${d.digest}`);
      const bytes = Buffer.from(await blob.arrayBuffer());
      expect([repo, ref, d.digest, blob.status, bytes.length === d.size && sha256(bytes) === d.digest]).toEqual([repo, ref, d.digest, 200, true]);
      verified.add(`${repo} ${d.digest}`);
    }
    return true;
  };
  for (const repo of REPOS) {
    const list = await sys.fetch(`/v2/${repo}/tags/list`);
    const tags = list.status === 200 ? (((await list.json()) as { tags: string[] | null }).tags ?? []) : [];
    for (const tag of tags) {
      expect(await checkManifest(repo, tag)).toBe(true);
      tagged++;
    }
    for (const digest of pushed.get(repo)!) await checkManifest(repo, digest);
  }
  return tagged;
}

describe("garbage collection under concurrent pushes, deletes and tag moves", () => {
  test("bounded run: no 5xx; afterwards every tag pulls whole and no referenced blob is missing", async () => {
    // Every tag exists before the storm starts.
    for (const repo of REPOS) for (const tag of TAGS) await pushNew(repo, tag);
    const deadline = Date.now() + DURATION_MS;
    const pusher = () =>
      until(deadline, async () => {
        const repo = pick(REPOS);
        if (Math.random() < 0.25) await retag(repo);
        else await pushNew(repo, pick(TAGS));
      });
    await Promise.all([
      pusher(),
      pusher(),
      pusher(),
      until(deadline, deleteSome, 150),
      until(deadline, skopeoPush, 200),
      until(deadline, startGc, 2000),
    ]);
    await quiesce();
    const runs = ((await adminApi(sys, "GET", "/admin/gc/runs?n=100")).body as { runs: Run[] }).runs;
    console.log(`gc stress: ${JSON.stringify(stats)}; ${runs.length} runs, freed ${runs.reduce((n, r) => n + r.counts.bytesFreed, 0)} bytes`);

    expect(failures).toEqual([]);
    expect(runs.filter((r) => r.status !== "done")).toEqual([]);
    expect(runs.flatMap((r) => r.errors)).toEqual([]);
    expect(stats.gcStarted).toBeGreaterThan(2);
    expect(stats.gc409).toBeGreaterThan(0);
    expect(runs.some((r) => !r.options.dryRun && r.counts.blobs > 0)).toBe(true);
    expect(await checkRegistry()).toBeGreaterThan(0);

    // Once more on the quiet registry: a last collection of everything unreferenced leaves every tag whole.
    const last = await adminRun(sys, ["gc", "--delete-untagged", "--grace", "0"]);
    expect(last.counts.errors).toBe(0);
    expect(await checkRegistry()).toBeGreaterThan(0);
    for (const repo of REPOS.slice(0, 2)) {
      const list = (await (await sys.fetch(`/v2/${repo}/tags/list`)).json()) as { tags: string[] | null };
      for (const tag of (list.tags ?? []).slice(0, 2)) await pullsCompletely(sys, repo, tag, work);
    }
  });
});
