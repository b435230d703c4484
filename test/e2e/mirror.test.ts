import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OciLayout, type Descriptor } from "../support/oci-layout";
import { ok, skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";
import { Distribution, FailingUpstream, freePort } from "../support/upstream";

/**
 * The pull-through mirror against a real upstream on loopback (Debian's docker-registry), driven by skopeo
 * and by the requests containerd sends to a hosts.toml mirror (`?ns=`).
 */

const TAG_TTL = 2;
let upstream: Distribution;
/** Answers 5xx, never answers, or stalls mid-body (ns failing.example, time limit 1 s). */
let failing: FailingUpstream;
let registryPort: number;
let sys: RunningSystem;
let work: string;
let layout: OciLayout;
let single: Descriptor;
let multi: Descriptor;
const M = "application/vnd.oci.image.manifest.v1+json";
const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

beforeAll(async () => {
  upstream = new Distribution(await freePort());
  await upstream.start();
  failing = new FailingUpstream(await freePort());
  await failing.start();
  work = mkdtempSync(path.join(tmpdir(), "mirror-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  single = layout.image({ layers: [layout.layer("m.txt", "mirrored content\n")] });
  layout.tag(single, "single");
  multi = layout.index(
    ["amd64", "arm64"].map((architecture) =>
      layout.image({ architecture, layers: [layout.layer("arch.txt", `mirror ${architecture}\n`)] }),
    ),
  );
  layout.tag(multi, "multi");
  await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout.dir}:single`, `docker://${upstream.host}/library/app:1`]);
  await ok(["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout.dir}:multi`, `docker://${upstream.host}/library/multi:1`]);
  // Second upstream: this system's own registry, with token auth on (the mirror must do the token dance).
  registryPort = await freePort();
  sys = await startSystem({
    REGISTRY_PORT: String(registryPort),
    MIRROR_UPSTREAMS: JSON.stringify({
      [upstream.host]: { url: `http://${upstream.host}` },
      "docker.io": { url: `http://${upstream.host}`, libraryPrefix: true },
      [`127.0.0.1:${registryPort}`]: { url: `http://127.0.0.1:${registryPort}` },
      "failing.example": { url: `http://${failing.host}`, timeout: 1 },
    }),
    MIRROR_DEFAULT_UPSTREAM: "docker.io",
    MIRROR_TAG_TTL: String(TAG_TTL),
  });
});

afterAll(async () => {
  await sys?.stop();
  await upstream?.dispose();
  await failing?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const mirrorHost = () => new URL(sys.mirror).host;

interface Envelope {
  errors: { code: string; message: string; detail?: unknown }[];
}

describe("pull through the mirror", () => {
  test("skopeo pulls a single image (Docker Hub naming: alpine → library/alpine)", async () => {
    const out = path.join(work, "pull-single");
    await ok(["copy", "--src-tls-verify=false", `docker://${mirrorHost()}/app:1`, `oci:${out}:x`]);
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: Descriptor[] };
    expect(index.manifests[0]!.digest).toBe(single.digest);
  });

  test("skopeo pulls a multi-platform image with --all", async () => {
    const out = path.join(work, "pull-multi");
    await ok(["copy", "--all", "--src-tls-verify=false", `docker://${mirrorHost()}/library/multi:1`, `oci:${out}:x`]);
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: Descriptor[] };
    expect(index.manifests[0]!.digest).toBe(multi.digest);
  });

  test("containerd hosts.toml requests: ?ns= selects the upstream and is echoed in OCI-Namespace", async () => {
    const ns = `?ns=${upstream.host}`;
    const head = await fetch(`${sys.mirror}/v2/library/app/manifests/1${ns}`, { method: "HEAD", headers: { Accept: M } });
    expect(head.status).toBe(200);
    expect(head.headers.get("oci-namespace")).toBe(upstream.host);
    expect(head.headers.get("docker-content-digest")).toBe(single.digest);
    const manifest = await fetch(`${sys.mirror}/v2/library/app/manifests/${single.digest}${ns}`, { headers: { Accept: M } });
    expect(manifest.status).toBe(200);
    const body = await manifest.text();
    expect(sha256(body)).toBe(single.digest);
    const parsed = JSON.parse(body) as { config: Descriptor; layers: Descriptor[] };
    for (const d of [parsed.config, ...parsed.layers]) {
      const blob = await fetch(`${sys.mirror}/v2/library/app/blobs/${d.digest}${ns}`);
      expect(blob.status).toBe(200);
      expect(blob.headers.get("content-length")).toBe(String(d.size));
      expect(sha256(Buffer.from(await blob.arrayBuffer()))).toBe(d.digest);
    }
    const unknown = await fetch(`${sys.mirror}/v2/library/app/manifests/1?ns=not.allowed.example`);
    expect(unknown.status).toBe(403);
    const write = await fetch(`${sys.mirror}/v2/library/app/blobs/uploads/`, { method: "POST" });
    expect([404, 405]).toContain(write.status);
  });

  test("skopeo pulls an uncached image with a 40 MiB layer through the mirror whole (streamed as it fills)", async () => {
    const large = layout.image({ layers: [layout.layer("large.bin", randomBytes(40 * 1024 * 1024))] });
    layout.tag(large, "large");
    await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout.dir}:large`, `docker://${upstream.host}/library/large:1`]);
    const out = path.join(work, "pull-large");
    await ok(["copy", "--src-tls-verify=false", `docker://${mirrorHost()}/large:1`, `dir:${out}`]);
    const layer = (JSON.parse(readFileSync(path.join(layout.blobs, large.digest.slice(7)), "utf8")) as { layers: Descriptor[] }).layers[0]!;
    expect(sha256(readFileSync(path.join(out, layer.digest.slice(7))))).toBe(layer.digest);
    rmSync(out, { recursive: true, force: true });
  });

  test("concurrent misses for one blob make one upstream fetch", async () => {
    const big = layout.image({ layers: [layout.layer("c.bin", Buffer.alloc(3 * 1024 * 1024, 7))] });
    layout.tag(big, "concurrent");
    await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout.dir}:concurrent`, `docker://${upstream.host}/library/conc:1`]);
    const layer = (JSON.parse(readFileSync(path.join(layout.blobs, big.digest.slice(7)), "utf8")) as { layers: Descriptor[] }).layers[0]!;
    const before = upstream.requests.length;
    const bodies = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${sys.mirror}/v2/library/conc/blobs/${layer.digest}`).then(async (r) => Buffer.from(await r.arrayBuffer()))),
    );
    for (const b of bodies) expect(sha256(b)).toBe(layer.digest);
    const fetches = upstream.requests.slice(before).filter((l) => l.includes(`GET /v2/library/conc/blobs/${layer.digest}`));
    expect(fetches).toHaveLength(1);
  });

  test("a range of a blob that is not cached yet", async () => {
    const img = layout.image({ layers: [layout.layer("r.bin", Buffer.alloc(200_000, 3))] });
    layout.tag(img, "ranged");
    await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout.dir}:ranged`, `docker://${upstream.host}/library/ranged:1`]);
    const layer = (JSON.parse(readFileSync(path.join(layout.blobs, img.digest.slice(7)), "utf8")) as { layers: Descriptor[] }).layers[0]!;
    const whole = readFileSync(path.join(layout.blobs, layer.digest.slice(7)));
    const head = await fetch(`${sys.mirror}/v2/library/ranged/blobs/${layer.digest}`, { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe(String(layer.size));
    const part = await fetch(`${sys.mirror}/v2/library/ranged/blobs/${layer.digest}`, { headers: { Range: "bytes=10-99" } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(10, 100));
  });

  test("an upstream with token auth (our own registry): the mirror follows its Bearer challenge", async () => {
    await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:single`, `docker://${sys.host}/team/app:v1`]);
    expect((await fetch(`${sys.registry}/v2/team/app/manifests/v1`)).status).toBe(401);
    const ns = `?ns=127.0.0.1:${registryPort}`;
    const res = await fetch(`${sys.mirror}/v2/team/app/manifests/v1${ns}`, { headers: { Accept: M } });
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(single.digest);
    const manifest = JSON.parse(await res.text()) as { config: Descriptor; layers: Descriptor[] };
    for (const d of [manifest.config, ...manifest.layers]) {
      const blob = await fetch(`${sys.mirror}/v2/team/app/blobs/${d.digest}${ns}`);
      expect(blob.status).toBe(200);
      expect(sha256(Buffer.from(await blob.arrayBuffer()))).toBe(d.digest);
    }
  });

  test("with the upstream stopped: cached content is served (by digest, a stale tag); uncached is a 502 naming it", async () => {
    await upstream.stop();
    try {
      const out = path.join(work, "pull-offline");
      await ok(["copy", "--src-tls-verify=false", `docker://${mirrorHost()}/app:1`, `oci:${out}:x`]);
      const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: Descriptor[] };
      expect(index.manifests[0]!.digest).toBe(single.digest);
      // Nothing cached: a 502 in the error envelope that names the upstream, for clients and for skopeo.
      const missing = await fetch(`${sys.mirror}/v2/library/never/manifests/1`);
      expect(missing.status).toBe(502);
      expect(missing.headers.get("content-type")).toBe("application/json");
      const body = (await missing.json()) as Envelope;
      expect(body.errors[0]!.code).toBe("UNKNOWN");
      expect(body.errors[0]!.message).toBe(`upstream docker.io (http://${upstream.host}) is unreachable: connection refused or lost`);
      const pulled = await skopeo(["copy", "--src-tls-verify=false", `docker://${mirrorHost()}/never:1`, `oci:${path.join(work, "pull-dead")}:x`]);
      expect(pulled.code).not.toBe(0);
      expect(pulled.stderr).toContain(`${mirrorHost()}/never:1`);
      expect(pulled.stderr).toContain("502 Bad Gateway");
      expect(pulled.stderr).not.toMatch(/internal error|goroutine|panic/i);
    } finally {
      await upstream.start();
    }
  });

  test("an upstream that answers 500 or 503, never answers, or stalls mid-body: 502, 503, 504 naming it", async () => {
    const who = `upstream failing.example (http://${failing.host})`;
    const cases: [string, number, string][] = [
      ["status-500/app/manifests/1", 502, `${who} answered 500`],
      ["status-503/app/manifests/1", 503, `${who} answered 503`],
      ["silent/app/manifests/1", 504, `${who} timed out after 1 s`],
      ["stalls/app/manifests/1", 504, `${who} sent nothing more of its answer for 1 s`],
    ];
    for (const [pathname, status, message] of cases) {
      const res = await fetch(`${sys.mirror}/v2/${pathname}?ns=failing.example`, { headers: { Accept: M } });
      expect(res.status, pathname).toBe(status);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(((await res.json()) as Envelope).errors[0]).toMatchObject({ code: "UNKNOWN", message });
    }
    // A blob whose body stalls after its headers were passed on can only be cut off; it is never complete.
    const blob = await fetch(`${sys.mirror}/v2/stalls/app/blobs/sha256:${"0".repeat(64)}?ns=failing.example`)
      .then(async (r) => ({ status: r.status, bytes: (await r.arrayBuffer()).byteLength }))
      .catch(() => null);
    if (blob) expect(blob).not.toEqual({ status: 200, bytes: 1000 });
  });

  test("a tag moved upstream is seen after its TTL", async () => {
    const before = await fetch(`${sys.mirror}/v2/library/app/manifests/1`, { method: "HEAD", headers: { Accept: M } });
    expect(before.headers.get("docker-content-digest")).toBe(single.digest);
    const moved = layout.image({ layers: [layout.layer("m.txt", "moved content\n")] });
    layout.tag(moved, "moved");
    await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout.dir}:moved`, `docker://${upstream.host}/library/app:1`]);
    await new Promise((r) => setTimeout(r, (TAG_TTL + 1) * 1000));
    const after = await fetch(`${sys.mirror}/v2/library/app/manifests/1`, { method: "HEAD", headers: { Accept: M } });
    expect(after.headers.get("docker-content-digest")).toBe(moved.digest);
  });

  test("a corrupted upstream blob fails for the client and is not cached", async () => {
    const bad = layout.image({ layers: [layout.layer("bad.txt", "x".repeat(100_000))] });
    layout.tag(bad, "bad");
    await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout.dir}:bad`, `docker://${upstream.host}/library/bad:1`]);
    const manifest = JSON.parse(readFileSync(path.join(layout.blobs, bad.digest.slice(7)), "utf8")) as { layers: Descriptor[] };
    const layer = manifest.layers[0]!;
    const file = upstream.blobPath(layer.digest);
    const original = readFileSync(file);
    const corrupt = Buffer.from(original);
    corrupt[corrupt.length - 5] = corrupt[corrupt.length - 5]! ^ 0xff;
    writeFileSync(file, corrupt);
    const url = `${sys.mirror}/v2/library/bad/blobs/${layer.digest}`;
    const got = await fetch(url)
      .then(async (r) => ({ status: r.status, bytes: Buffer.from(await r.arrayBuffer()) }))
      .catch(() => null);
    // Either the transfer fails, or whatever arrived is not the bytes of that digest presented as complete.
    if (got && got.status === 200) expect(got.bytes.byteLength).not.toBe(layer.size);
    await new Promise((r) => setTimeout(r, 500));
    await upstream.stop();
    try {
      const again = await fetch(url).catch(() => null);
      expect(again?.status ?? 0).not.toBe(200);
    } finally {
      writeFileSync(file, original);
      await upstream.start();
    }
    const fixed = await fetch(url);
    expect(sha256(Buffer.from(await fixed.arrayBuffer()))).toBe(layer.digest);
  });
});
