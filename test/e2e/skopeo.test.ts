import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fileDigest, MT, OciLayout, type Descriptor } from "../support/oci-layout";
import { ok, skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * skopeo (Debian's, unmodified) against the system started as README command 1 starts it.
 * Test images are OCI layouts written by the test itself. See test/README.md for the spec sections.
 */

let sys: RunningSystem;
let work: string;
let layout: OciLayout;
let single: Descriptor;
let multi: Descriptor;
const platforms = [
  { architecture: "amd64" },
  { architecture: "arm", variant: "v7" },
  { architecture: "arm64", variant: "v8" },
  { architecture: "ppc64le" },
  { architecture: "s390x" },
];
const perPlatform = new Map<string, Descriptor>();

const TLS = "--tls-verify=false";
/** The (only) layer digest of a platform image in the test layout. */
const layerOf = (manifest: Descriptor) =>
  (JSON.parse(readFileSync(path.join(layout.blobs, manifest.digest.slice(7)), "utf8")) as { layers: Descriptor[] }).layers[0]!.digest;
const ref = (name: string) => `docker://${sys.host}/${name}`;

beforeAll(async () => {
  sys = await startSystem();
  work = mkdtempSync(path.join(tmpdir(), "skopeo-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  single = layout.image({ layers: [layout.layer("hello.txt", "hello from an offline layer\n"), layout.layer("b.txt", "second")] });
  layout.tag(single, "single");
  const images = platforms.map((p) => {
    const d = layout.image({ ...p, layers: [layout.layer("arch.txt", `built for ${p.architecture}${p.variant ?? ""}\n`)] });
    perPlatform.set(p.architecture + (p.variant ?? ""), d);
    return d;
  });
  multi = layout.index(images);
  layout.tag(multi, "multi");
});

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("skopeo copy", () => {
  test("push a single image and pull it back byte-exact (--preserve-digests)", async () => {
    await ok(["copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:single`, ref("e2e/single:1.0")]);
    const raw = await ok(["inspect", TLS, "--raw", ref("e2e/single:1.0")]);
    expect(raw).toBe(readFileSync(path.join(layout.blobs, single.digest.slice(7)), "utf8"));

    const out = path.join(work, "pulled-single");
    await ok(["copy", "--preserve-digests", "--src-tls-verify=false", ref("e2e/single:1.0"), `oci:${out}:x`]);
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: Descriptor[] };
    expect(index.manifests[0]!.digest).toBe(single.digest);
    for (const f of readdirSync(path.join(out, "blobs", "sha256"))) {
      expect(await fileDigest(path.join(out, "blobs", "sha256", f))).toBe(`sha256:${f}`);
    }
  });

  test("inspect: digest, --config, list-tags", async () => {
    const info = JSON.parse(await ok(["inspect", TLS, ref("e2e/single:1.0")])) as { Digest: string; Architecture: string; Layers: string[] };
    expect(info.Digest).toBe(single.digest);
    expect(info.Architecture).toBe("amd64");
    expect(info.Layers).toHaveLength(2);
    const config = JSON.parse(await ok(["inspect", TLS, "--config", ref("e2e/single:1.0")])) as { rootfs: { diff_ids: string[] } };
    expect(config.rootfs.diff_ids).toHaveLength(2);
    await ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:single`, ref("e2e/single:2.0")]);
    const tags = JSON.parse(await ok(["list-tags", TLS, ref("e2e/single")])) as { Tags: string[] };
    expect(tags.Tags).toEqual(["1.0", "2.0"]);
  });

  test("a multi-platform index with --all, and platform selection on inspect", async () => {
    await ok(["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:multi`, ref("e2e/multi:latest")]);
    const raw = JSON.parse(await ok(["inspect", TLS, "--raw", ref("e2e/multi:latest")])) as { mediaType: string; manifests: unknown[] };
    expect(raw.mediaType).toBe(MT.index);
    expect(raw.manifests).toHaveLength(platforms.length);
    const cases: [string[], string][] = [
      [["--override-arch", "arm64"], "arm64v8"],
      [["--override-arch", "arm", "--override-variant", "v7"], "armv7"],
      [["--override-arch", "s390x"], "s390x"],
      [["--override-arch", "amd64"], "amd64"],
    ];
    for (const [flags, key] of cases) {
      // inspect's Digest is the index's; the layers show which platform's image was chosen.
      const info = JSON.parse(await ok(["--override-os", "linux", ...flags, "inspect", TLS, ref("e2e/multi:latest")])) as { Digest: string; Layers: string[] };
      expect(info.Digest).toBe(multi.digest);
      const picked = [...perPlatform].find(([, d]) => layerOf(d) === info.Layers[0])?.[0];
      expect(picked, flags.join(" ")).toBe(key);
    }
    const out = path.join(work, "pulled-multi");
    await ok(["copy", "--all", "--preserve-digests", "--src-tls-verify=false", ref("e2e/multi:latest"), `oci:${out}:m`]);
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8")) as { manifests: Descriptor[] };
    expect(index.manifests[0]!.digest).toBe(multi.digest);
  });

  test("docker v2s2 format", async () => {
    await ok(["copy", "--format", "v2s2", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:single`, ref("e2e/docker:v2")]);
    const raw = JSON.parse(await ok(["inspect", TLS, "--raw", ref("e2e/docker:v2")])) as { mediaType: string };
    expect(raw.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const out = path.join(work, "pulled-v2s2");
    await ok(["copy", "--src-tls-verify=false", ref("e2e/docker:v2"), `dir:${out}`]);
    expect(readdirSync(out)).toContain("manifest.json");
  });

  test("delete: the tag and the manifest are gone", async () => {
    await ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:single`, ref("e2e/delete:gone")]);
    await ok(["delete", TLS, "--creds", sys.creds, ref("e2e/delete:gone")]);
    const r = await skopeo(["inspect", TLS, ref("e2e/delete:gone")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/manifest unknown/i);
    const res = await sys.fetch(`/v2/e2e/delete/manifests/${single.digest}`);
    expect(res.status).toBe(404);
  });
});

describe("skopeo sync", () => {
  test("docker → dir, dir → docker, docker → docker", async () => {
    await ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:single`, ref("sync/src:a")]);
    await ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:single`, ref("sync/src:b")]);
    const dir = path.join(work, "sync-dir");
    await ok(["sync", "--src", "docker", "--dest", "dir", "--src-tls-verify=false", `${sys.host}/sync/src`, dir]);
    expect(readdirSync(dir).sort()).toEqual(["src:a", "src:b"]);

    await ok(["sync", "--src", "dir", "--dest", "docker", "--dest-tls-verify=false", "--dest-creds", sys.creds, path.join(dir, "src:a"), `${sys.host}/back`]);
    const back = JSON.parse(await ok(["inspect", TLS, ref("back/src:a")])) as { Digest: string };
    expect(back.Digest).toBe(single.digest);

    await ok(["sync", "--src", "docker", "--dest", "docker", "--src-tls-verify=false", "--dest-tls-verify=false", "--dest-creds", sys.creds, `${sys.host}/sync/src`, `${sys.host}/mirror`]);
    const tags = JSON.parse(await ok(["list-tags", TLS, ref("mirror/src")])) as { Tags: string[] };
    expect(tags.Tags).toEqual(["a", "b"]);
  });
});

describe("plain http with --tls-verify=false", () => {
  test("skopeo falls back to http at once (no 10 s TLS handshake timeout)", async () => {
    const r = await skopeo(["inspect", TLS, ref("e2e/single:1.0")]);
    expect(r.code).toBe(0);
    // Go's TLS handshake timeout is 10 s; a stalled fallback could never finish under it.
    expect(r.ms).toBeLessThan(8000);
  });
});
