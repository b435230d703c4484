import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { run, scratch, succeeded } from "../support/clients";
import { fileDigest, OciLayout, type Descriptor } from "../support/oci-layout";
import { sha256 } from "../support/registry-view";
import { ok, skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Layers beyond the request body limit: the system started with MAX_REQUEST_BODY = 64 MiB (as Cloudflare's edge
 * limits bodies), an image with a 300 MiB random layer. skopeo, which sends a layer in one PATCH, gets the 413
 * naming the limit; `pnpm push` (scripts/push/cli.mjs) sends it in chunks the registry takes, skopeo pulls it back
 * with the same digests, and a push killed half way resumes on rerun without sending again what was stored.
 */

const MiB = 1024 * 1024;
const LIMIT = 64 * MiB;
const LAYER = 300 * MiB;
const CLI = path.resolve(__dirname, "../../scripts/push/cli.mjs");

let sys: RunningSystem;
let work: string;
let layout: OciLayout;
let image: Descriptor;
let layer: Descriptor;

interface PushJson {
  digest: string;
  bytesSent: number;
  bytesSkipped: number;
  bytesResumed: number;
}

/** The push command's environment: its state files in the test's own cache folder. */
const pushEnv = () => ({ ...process.env, XDG_CACHE_HOME: path.join(work, "cache") });
const stateFiles = () => readdirSync(path.join(work, "cache", "edge-registry-push"));

async function pushCommand(source: string, dest: string): Promise<PushJson> {
  const r = await run(process.execPath, [CLI, "--json", "--creds", sys.creds, source, `${sys.host}/${dest}`], { env: pushEnv() });
  return JSON.parse(succeeded(r, `push ${source} ${dest}`)) as PushJson;
}

/** skopeo copies `repo:tag` into a dir: layout; each layer of `want` must come back with its digest. */
async function pullBack(ref: string, want: Descriptor, layers: Descriptor[]): Promise<void> {
  const out = path.join(work, `pulled-${Date.now()}`);
  await ok(["copy", "--src-tls-verify=false", `docker://${sys.host}/${ref}`, `dir:${out}`]);
  expect(sha256(readFileSync(path.join(out, "manifest.json")))).toBe(want.digest);
  for (const l of layers) {
    const file = path.join(out, l.digest.slice(7));
    expect(statSync(file).size).toBe(l.size);
    expect(await fileDigest(file)).toBe(l.digest);
  }
  rmSync(out, { recursive: true, force: true });
}

beforeAll(async () => {
  sys = await startSystem({ MAX_REQUEST_BODY: String(LIMIT) });
  work = scratch("push-e2e");
  layout = new OciLayout(path.join(work, "layout"));
  const big = await layout.bigLayer(LAYER);
  layer = big.desc;
  image = layout.image({ layers: [big] });
  layout.tag(image, "big");
}, 120_000);

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("a 300 MiB layer with a 64 MiB request body limit", () => {
  test("skopeo (one PATCH per layer) is refused with a 413 that names the limit and the remedy", async () => {
    const r = await skopeo(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:big`, `docker://${sys.host}/push/skopeo:1`]);
    expect(r.code).not.toBe(0);
    // skopeo 1.9.3 prints the envelope's message: "uploading layer chunked: size invalid: a request body of …"
    expect(r.stderr).toContain(`over this registry's limit of ${LIMIT} bytes`);
    expect(r.stderr).toContain(`push large layers in chunks of at most ${LIMIT} bytes`);
    expect((await sys.fetch(`/v2/push/skopeo/blobs/${layer.digest}`, { method: "HEAD" })).status).toBe(404);
  });

  test("the registry advertises the limit on a new upload", async () => {
    const res = await sys.fetch("/v2/push/adv/blobs/uploads/", { method: "POST" });
    expect(res.status).toBe(202);
    expect(res.headers.get("oci-chunk-max-length")).toBe(String(LIMIT));
  });

  test("pnpm push sends it in chunks; skopeo pulls it back with the same digests; a second push skips every blob", async () => {
    const first = await pushCommand(`oci:${layout.dir}:big`, "push/cmd:1");
    expect(first.digest).toBe(image.digest);
    expect(first.bytesSent).toBeGreaterThanOrEqual(layer.size);
    expect(first.bytesSent).toBeLessThan(layer.size + MiB);
    await pullBack("push/cmd:1", image, [layer]);
    const again = await pushCommand(`oci:${layout.dir}:big`, "push/cmd:2");
    expect(again).toMatchObject({ digest: image.digest, bytesSent: 0, bytesResumed: 0 });
    expect(again.bytesSkipped).toBeGreaterThanOrEqual(layer.size);
    expect(stateFiles()).toEqual([]);
  });

  test("a push killed half way resumes on rerun without sending again what the registry stored", async () => {
    const args = [CLI, "--creds", sys.creds, `oci:${layout.dir}:big`, `${sys.host}/push/resume:1`];
    const child = spawn(process.execPath, args, { env: pushEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const killed = await new Promise<boolean>((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        // Plain progress (not a terminal): a line per chunk the registry confirmed, e.g. "stored 128.0 MiB/300.0 MiB (42%)".
        const stored = [...stderr.matchAll(/stored [\d.]+ MiB\/300\.0 MiB \((\d+)%\)/g)].map((m) => Number(m[1]));
        if (stored.some((p) => p >= 50) && child.kill("SIGKILL")) resolve(true);
      });
      child.once("exit", () => resolve(false));
    });
    expect(killed, stderr).toBe(true);
    expect(stateFiles()).toHaveLength(1);

    const resumed = await pushCommand(`oci:${layout.dir}:big`, "push/resume:1");
    expect(resumed.digest).toBe(image.digest);
    expect(resumed.bytesResumed).toBeGreaterThanOrEqual(layer.size / 2);
    expect(resumed.bytesSent).toBeLessThan(layer.size * 0.6);
    expect(resumed.bytesResumed + resumed.bytesSent).toBeLessThan(layer.size + LIMIT);
    expect(stateFiles()).toEqual([]);
    const raw = await ok(["inspect", "--tls-verify=false", "--raw", `docker://${sys.host}/push/resume:1`]);
    expect(sha256(raw)).toBe(image.digest);
    const blob = await sys.fetch(`/v2/push/resume/blobs/${layer.digest}`, { method: "HEAD" });
    expect(blob.headers.get("content-length")).toBe(String(layer.size));
  });
});

describe("other sources", () => {
  test("a docker-archive (skopeo's) is pushed as a Docker v2 schema 2 manifest and pulls back whole", async () => {
    const small = new OciLayout(path.join(work, "small"));
    const smallImage = small.image({ layers: [small.layer("a.txt", "from an archive\n"), small.layer("b.txt", "second")] });
    small.tag(smallImage, "v1");
    const archive = path.join(work, "image.tar");
    await ok(["copy", `oci:${small.dir}:v1`, `docker-archive:${archive}:demo/small:v1`]);
    const pushed = await pushCommand(`docker-archive:${archive}`, "push/archive");
    const raw = await ok(["inspect", "--tls-verify=false", "--raw", `docker://${sys.host}/push/archive:v1`]);
    expect(sha256(raw)).toBe(pushed.digest);
    const manifest = JSON.parse(raw) as { mediaType: string; layers: Descriptor[] };
    expect(manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(manifest.layers.map((l) => l.mediaType)).toEqual(Array(2).fill("application/vnd.docker.image.rootfs.diff.tar"));
    await pullBack("push/archive:v1", { ...smallImage, digest: pushed.digest }, manifest.layers);
  });

  test("blob:FILE prints the blob's digest; the registry serves those bytes", async () => {
    const bytes = randomBytes(3 * MiB + 5);
    const file = path.join(work, "one.blob");
    writeFileSync(file, bytes);
    const r = await run(process.execPath, [CLI, "--quiet", "--creds", sys.creds, `blob:${file}`, `${sys.host}/push/blob`], { env: pushEnv() });
    const digest = sha256(bytes);
    expect(succeeded(r, "push blob").trim()).toBe(digest);
    const res = await sys.fetch(`/v2/push/blob/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(digest);
  });
});
