import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OciLayout, type Descriptor } from "../support/oci-layout";
import { ok, skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";
import { Distribution, freePort } from "../support/upstream";

/**
 * The pull-through mirror against a real upstream on loopback (Debian's docker-registry), driven by skopeo
 * and by the requests containerd sends to a hosts.toml mirror (`?ns=`).
 */

const TAG_TTL = 2;
let upstream: Distribution;
let registryPort: number;
let sys: RunningSystem;
let work: string;
let layout: OciLayout;
let single: Descriptor;
let multi: Descriptor;
const M = "application/vnd.oci.image.manifest.v1+json";
const sha256 = (b: Buffer | string) => "sha256:" + createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  upstream = new Distribution(await freePort());
  await upstream.start();
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
    }),
    MIRROR_DEFAULT_UPSTREAM: "docker.io",
    MIRROR_TAG_TTL: String(TAG_TTL),
  });
});

afterAll(async () => {
  await sys?.stop();
  await upstream?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

const mirrorHost = () => new URL(sys.mirror).host;

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

  test("with the upstream stopped, cached content is still served (by digest, and a stale tag)", async () => {
    await upstream.stop();
    try {
      const out = path.join(work, "pull-offline");
      await ok(["copy", "--src-tls-verify=false", `docker://${mirrorHost()}/app:1`, `oci:${out}:x`]);
      const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: Descriptor[] };
      expect(index.manifests[0]!.digest).toBe(single.digest);
      const missing = await fetch(`${sys.mirror}/v2/library/never/manifests/1`);
      expect(missing.status).toBeGreaterThanOrEqual(400);
      expect(missing.status).not.toBe(500);
    } finally {
      await upstream.start();
    }
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

describe("pull limits", () => {
  let limited: RunningSystem;
  beforeAll(async () => {
    limited = await startSystem({
      MIRROR_UPSTREAMS: JSON.stringify({ "docker.io": { url: `http://${upstream.host}`, libraryPrefix: true } }),
      MIRROR_RATE_LIMIT: "3",
      MIRROR_RATE_WINDOW: "3600",
    });
  });
  afterAll(async () => limited?.stop());

  test("Docker Hub headers, HEAD free, 429 with Retry-After, X-Forwarded-For ignored, per address", async () => {
    const url = `${limited.mirror}/v2/app/manifests/1`;
    const as = (ip: string, extra: Record<string, string> = {}) => ({ headers: { Accept: M, "CF-Connecting-IP": ip, ...extra } });
    const a = "203.0.113.5";
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, as(a, { "X-Forwarded-For": `10.0.0.${i}` }));
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBe("3;w=3600");
      expect(res.headers.get("ratelimit-remaining")).toBe(`${2 - i};w=3600`);
      expect(res.headers.get("docker-ratelimit-source")).toBe(a);
      const head = await fetch(url, { method: "HEAD", ...as(a) });
      expect(head.status).toBe(200);
    }
    const over = await fetch(url, as(a, { "X-Forwarded-For": "198.51.100.99" }));
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await over.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("TOOMANYREQUESTS");
    const headStill = await fetch(url, { method: "HEAD", ...as(a) });
    expect(headStill.status).toBe(200);
    const other = await fetch(url, as("198.51.100.7"));
    expect(other.status).toBe(200);
    const v6a = await fetch(url, as("2001:db8:1:2::1"));
    expect(v6a.headers.get("docker-ratelimit-source")).toBe("2001:db8:1:2::/64");
    await fetch(url, as("2001:db8:1:2:ffff::9"));
    const v6c = await fetch(url, as("2001:db8:1:2:aaaa::3"));
    expect(v6c.headers.get("ratelimit-remaining")).toBe("0;w=3600");
  });

  test("a token from the auth worker counts the pull against its account, with the higher limit", async () => {
    const token = await limited.token("app");
    const res = await fetch(`${limited.mirror}/v2/app/manifests/1`, {
      headers: { Accept: M, "CF-Connecting-IP": "203.0.113.5", Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-ratelimit-source")).toBe(limited.robot.name);
    expect(res.headers.get("ratelimit-limit")).toBe("200;w=3600");
    const forged = await fetch(`${limited.mirror}/v2/app/manifests/1`, {
      headers: { Accept: M, "CF-Connecting-IP": "198.51.100.200", Authorization: `Bearer ${token!.slice(0, -4)}AAAA` },
    });
    expect(forged.headers.get("docker-ratelimit-source")).toBe("198.51.100.200");
  });
});
