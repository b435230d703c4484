import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DENIED } from "../support/clients";
import { ClientFixture } from "../support/fixture";
import { blobsOf } from "../support/images";
import { ContainersSandbox } from "../support/podman";
import { allPresent, blobHeads, manifest, tagsOf, V2S2 } from "../support/registry-view";
import { MT, type Descriptor } from "../support/oci-layout";

/**
 * Debian's podman (4.3) and buildah (1.28) against the system as README command 1 starts it, token auth on,
 * anonymous pulls only for public/*, as a robot made with the CLI that may push to pod/* and pull seed/*.
 * Both run in a sandbox (vfs storage, config and auth file in a temp dir); every result is checked against
 * what the registry serves.
 */

const TLS = "--tls-verify=false";
let f: ClientFixture;
let box: ContainersSandbox;

beforeAll(async () => {
  f = new ClientFixture("podman", { rules: ["pod/*=pull,push", "seed/*=pull"] });
  await f.start();
  box = new ContainersSandbox();
});

afterAll(async () => {
  box?.dispose();
  await f?.dispose();
});

const ref = (name: string) => f.ref(name);

interface PodmanImage {
  Id: string;
  Digest: string;
  RepoDigests: string[];
  Architecture: string;
  Labels: Record<string, string> | null;
}
const inspect = async (name: string) => (JSON.parse(await box.mustPodman(["image", "inspect", name])) as PodmanImage[])[0]!;
/** The image ID podman and buildah give an image: its config's digest, without "sha256:". */
const idOf = (m: Descriptor) => blobsOf(f.img, m)[0]!.slice(7);

describe("podman", () => {
  test("an anonymous pull is refused; login writes the sandbox's auth file; pull gets the registry's image", async () => {
    const anonymous = await box.podman(["pull", TLS, ref("seed/single:1")]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(DENIED);

    await box.mustPodman(["login", TLS, "-u", f.robot.name, "--password-stdin", f.sys.host], { input: f.robot.secret });
    const auths = (JSON.parse(readFileSync(box.authFile, "utf8")) as { auths: Record<string, unknown> }).auths;
    expect(Object.keys(auths)).toEqual([f.sys.host]);

    await box.mustPodman(["pull", TLS, ref("seed/single:1")]);
    const pulled = await inspect(ref("seed/single:1"));
    expect(pulled.Digest).toBe(f.img.single.digest);
    expect(pulled.Id).toBe(idOf(f.img.single));
    expect(pulled.Architecture).toBe("amd64");
    expect(pulled.RepoDigests).toContain(`${ref("seed/single")}@${f.img.single.digest}`);
  });

  test("--arch picks the matching image of a multi-platform index", async () => {
    for (const arch of ["arm64", "amd64"]) {
      const child = f.img.arch.get(arch)!;
      await box.mustPodman(["pull", TLS, "--creds", f.robot.creds, "--arch", arch, ref("seed/multi:1")]);
      const pulled = await inspect(ref("seed/multi:1"));
      expect(pulled.Id).toBe(idOf(child)); // arm64: the arm64/v8 image's config
      expect(pulled.Architecture).toBe(arch);
      expect(pulled.Digest).toBe(f.img.multi.digest);
      expect(pulled.RepoDigests).toContain(`${ref("seed/multi")}@${child.digest}`);
    }
  });

  test("push --format oci keeps the image byte for byte; --format v2s2 converts it; both complete in the registry", async () => {
    for (const [tag, format, mediaType] of [["oci", "oci", MT.manifest], ["v2s2", "v2s2", V2S2]] as const) {
      const digestFile = path.join(box.dir, `digest-${tag}`);
      await box.mustPodman(["push", TLS, "--creds", f.robot.creds, "--format", format, "--digestfile", digestFile, ref("seed/single:1"), ref(`pod/app:${tag}`)]);
      const stored = await manifest(f.sys, "pod/app", tag);
      expect(stored.mediaType).toBe(mediaType);
      expect(stored.digest).toBe(readFileSync(digestFile, "utf8").trim());
      expect(stored.json.config?.digest).toBe(`sha256:${idOf(f.img.single)}`);
      expect(await blobHeads(f.sys, "pod/app", stored)).toEqual(allPresent(stored));
    }
    expect((await manifest(f.sys, "pod/app", "oci")).digest).toBe(f.img.single.digest);
  });

  test("manifest create, add --all, push --all: the registry holds the index and every image in it", async () => {
    await box.mustPodman(["manifest", "create", "localhost/list:1"]);
    await box.mustPodman(["manifest", "add", "--all", TLS, "--creds", f.robot.creds, "localhost/list:1", `docker://${ref("seed/multi:1")}`]);
    const local = JSON.parse(await box.mustPodman(["manifest", "inspect", "localhost/list:1"])) as { manifests: { digest: string }[] };
    const children = [...f.img.arch.values()].map((d) => d.digest);
    expect(local.manifests.map((m) => m.digest)).toEqual(children);

    const digestFile = path.join(box.dir, "digest-list");
    await box.mustPodman(["manifest", "push", "--all", TLS, "--creds", f.robot.creds, "--digestfile", digestFile, "localhost/list:1", `docker://${ref("pod/list:1")}`]);
    const index = await manifest(f.sys, "pod/list", "1");
    expect(index.digest).toBe(readFileSync(digestFile, "utf8").trim());
    expect(index.json.manifests?.map((m) => [m.digest, m.platform?.architecture])).toEqual([...f.img.arch].map(([a, d]) => [d.digest, a]));
    for (const child of children) {
      const m = await manifest(f.sys, "pod/list", child);
      expect(m.bodyDigest).toBe(child);
      expect(await blobHeads(f.sys, "pod/list", m)).toEqual(allPresent(m));
    }
  });

  test("search --list-tags lists the registry's tags", async () => {
    for (const tag of ["b", "a", "c"]) await box.mustPodman(["push", TLS, "--creds", f.robot.creds, ref("seed/single:1"), ref(`pod/tags:${tag}`)]);
    const out = await box.mustPodman(["search", TLS, "--authfile", box.authFile, "--list-tags", "--format", "json", ref("pod/tags")]);
    const [listed] = JSON.parse(out) as { Name: string; Tags: string[] }[];
    expect(listed?.Name).toBe(ref("pod/tags"));
    expect(listed?.Tags).toEqual(["a", "b", "c"]);
    expect(await tagsOf(f.sys, "pod/tags")).toEqual(listed?.Tags);
  });

  test("a push outside the robot's repositories is refused and leaves nothing", async () => {
    const r = await box.podman(["push", TLS, "--creds", f.robot.creds, ref("seed/single:1"), ref("other/app:1")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(DENIED);
    expect((await manifest(f.sys, "other/app", "1")).status).toBe(404);
  });
});

describe("buildah", () => {
  test("pull with --creds into its own store: the registry's image", async () => {
    await box.mustBuildah(["pull", TLS, "--creds", f.robot.creds, ref("seed/single:1")]);
    const images = JSON.parse(await box.mustBuildah(["images", "--json"])) as { id: string; names: string[]; digest: string }[];
    const pulled = images.find((i) => i.names.includes(ref("seed/single:1")));
    expect(pulled?.digest).toBe(f.img.single.digest);
    expect(idOf(f.img.single).startsWith(pulled?.id ?? "-")).toBe(true);
  });

  test("from, config --label, commit, push: the registry holds the new image, and podman pulls it back", async () => {
    await box.mustBuildah(["from", "--name", "work", ref("seed/single:1")]);
    await box.mustBuildah(["config", "--label", "built-by=buildah", "work"]);
    await box.mustBuildah(["commit", "work", "localhost/built:1"]);
    const digestFile = path.join(box.dir, "digest-built");
    await box.mustBuildah(["push", TLS, "--creds", f.robot.creds, "--digestfile", digestFile, "localhost/built:1", `docker://${ref("pod/built:1")}`]);

    const stored = await manifest(f.sys, "pod/built", "1");
    expect(stored.digest).toBe(readFileSync(digestFile, "utf8").trim());
    expect(stored.json.layers).toHaveLength(3); // the two base layers and the commit's
    expect(await blobHeads(f.sys, "pod/built", stored)).toEqual(allPresent(stored));
    const config = (await (await f.sys.fetch(`/v2/pod/built/blobs/${stored.json.config!.digest}`)).json()) as { config: { Labels: Record<string, string> } };
    expect(config.config.Labels["built-by"]).toBe("buildah");

    await box.mustPodman(["pull", TLS, "--creds", f.robot.creds, ref("pod/built:1")]);
    const back = await inspect(ref("pod/built:1"));
    expect(back.Digest).toBe(stored.digest);
    expect(back.Labels?.["built-by"]).toBe("buildah");
  });
});
