import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DENIED } from "../support/clients";
import { Dockerd } from "../support/dockerd";
import { ClientFixture } from "../support/fixture";
import { blobsOf } from "../support/images";
import type { Descriptor } from "../support/oci-layout";
import { allPresent, blobHeads, manifest, V2S2 } from "../support/registry-view";

/**
 * Debian's dockerd and docker CLI (20.10) against the system as README command 1 starts it, token auth on,
 * anonymous pulls only for public/*: login as a robot made with the CLI, pull (and by platform), tag, push,
 * and Docker Hub names pulled through the mirror set as dockerd's registry-mirrors (its default upstream is
 * Debian's docker-registry on loopback). dockerd runs on a containerd of the test's own; no container runs.
 */

let f: ClientFixture;
let dockerd: Dockerd;

beforeAll(async () => {
  f = new ClientFixture("docker", { rules: ["dock/*=pull,push", "seed/*=pull"], mirror: true, containerd: true });
  await f.start();
  dockerd = new Dockerd({ containerd: f.containerd.socket, mirrors: [f.sys.mirror] });
  await dockerd.start();
});

afterAll(async () => {
  await dockerd?.dispose();
  await f?.dispose();
});

const ref = (name: string) => f.ref(name);

interface DockerImage {
  Id: string;
  RepoDigests: string[];
  Architecture: string;
  Variant?: string;
}
const inspect = async (name: string) => (JSON.parse(await dockerd.mustDocker(["image", "inspect", name])) as DockerImage[])[0]!;
const configOf = (m: Descriptor) => blobsOf(f.img, m)[0]!;

describe("docker against the registry", () => {
  test("a private pull is refused until docker login; login keeps a refresh token, not the secret", async () => {
    const before = await dockerd.docker(["pull", ref("seed/single:1")]);
    expect(before.code).not.toBe(0);
    expect(before.stderr).toMatch(DENIED);

    const out = await dockerd.mustDocker(["login", "-u", f.robot.name, "--password-stdin", f.sys.host], { input: f.robot.secret });
    expect(out).toMatch(/Login Succeeded/);
    const config = JSON.parse(readFileSync(path.join(dockerd.config, "config.json"), "utf8")) as {
      auths: Record<string, { auth?: string; identitytoken?: string }>;
    };
    const entry = config.auths[f.sys.host];
    expect(entry?.identitytoken).toBeTruthy();
    expect(Buffer.from(entry?.auth ?? "", "base64").toString()).not.toContain(f.robot.secret);

    await dockerd.mustDocker(["pull", ref("seed/single:1")]);
    const pulled = await inspect(ref("seed/single:1"));
    expect(pulled.Id).toBe(configOf(f.img.single));
    expect(pulled.Architecture).toBe("amd64");
    expect(pulled.RepoDigests).toContain(`${ref("seed/single")}@${f.img.single.digest}`);
  });

  test("pull --platform linux/arm64 takes the arm64/v8 image of an index", async () => {
    await dockerd.mustDocker(["pull", "--platform", "linux/arm64", ref("seed/multi:1")]);
    const pulled = await inspect(ref("seed/multi:1"));
    expect(pulled.Id).toBe(configOf(f.img.arch.get("arm64")!));
    expect(pulled.Architecture).toBe("arm64");
    expect(pulled.Variant).toBe("v8");
    expect(pulled.RepoDigests).toContain(`${ref("seed/multi")}@${f.img.multi.digest}`);
  });

  test("tag and push: the registry holds the image, its layers mounted from the repository pulled from", async () => {
    await dockerd.mustDocker(["tag", ref("seed/single:1"), ref("dock/app:pushed")]);
    const out = await dockerd.mustDocker(["push", ref("dock/app:pushed")]);
    const pushed = /pushed: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(out);
    expect(pushed, out).not.toBeNull();
    expect(out).toMatch(/Mounted from seed\/single/);
    const stored = await manifest(f.sys, "dock/app", "pushed");
    expect(stored.digest).toBe(pushed![1]);
    expect(stored.mediaType).toBe(V2S2);
    expect(stored.json.config?.digest).toBe(configOf(f.img.single));
    expect(await blobHeads(f.sys, "dock/app", stored)).toEqual(allPresent(stored));

    await dockerd.mustDocker(["tag", ref("seed/single:1"), ref("seed/single:mine")]);
    const refused = await dockerd.docker(["push", ref("seed/single:mine")]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(DENIED);
    expect((await manifest(f.sys, "seed/single", "mine")).status).toBe(404);
  });
});

describe("docker through the mirror (registry-mirrors)", () => {
  test("Docker Hub names (single:1 = docker.io/library/single:1) come through the mirror from its upstream", async () => {
    const before = f.upstream.requests.length;
    await dockerd.mustDocker(["pull", "single:1"]);
    const pulled = await inspect("single:1");
    expect(pulled.Id).toBe(configOf(f.img.single));
    expect(pulled.RepoDigests).toContain(`single@${f.img.single.digest}`);
    expect(f.upstream.requests.slice(before).some((l) => l.includes("/v2/library/single/manifests/"))).toBe(true);

    await dockerd.mustDocker(["pull", "--platform", "linux/arm64", "multi:1"]);
    const arm = await inspect("multi:1");
    expect(arm.Id).toBe(configOf(f.img.arch.get("arm64")!));
    expect(arm.Architecture).toBe("arm64");
  });

  test("with the upstream stopped, the mirror's cache serves the pull again", async () => {
    await dockerd.mustDocker(["rmi", "single:1"]);
    await f.upstream.stop();
    try {
      await dockerd.mustDocker(["pull", "single:1"]);
      expect((await inspect("single:1")).Id).toBe(configOf(f.img.single));
    } finally {
      await f.upstream.start();
    }
  });
});
