import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeRobot, scratch, type Robot } from "../support/clients";
import { Containerd } from "../support/containerd";
import { Dockerd } from "../support/dockerd";
import { blobsOf, seed, testImages, type TestImages } from "../support/images";
import { allPresent, blobHeads, manifest } from "../support/registry-view";
import { startSystem, type RunningSystem } from "../support/system";
import { Distribution, freePort } from "../support/upstream";

/**
 * Debian's dockerd and docker CLI (20.10) against the system as README command 1 starts it, token auth on,
 * anonymous pulls only for public/*: login as a robot made with the CLI, pull (and by platform), tag, push,
 * and Docker Hub names pulled through the mirror set as dockerd's registry-mirrors (its default upstream is
 * Debian's docker-registry on loopback). dockerd runs on a containerd of the test's own; no container runs.
 */

const V2S2 = "application/vnd.docker.distribution.manifest.v2+json";
let upstream: Distribution;
let sys: RunningSystem;
let robot: Robot;
let containerd: Containerd;
let dockerd: Dockerd;
let work: string;
let img: TestImages;

beforeAll(async () => {
  work = scratch("docker-images");
  img = testImages(path.join(work, "layout"), "docker");
  upstream = new Distribution(await freePort());
  await upstream.start();
  await seed(img, upstream.host, "library");
  sys = await startSystem({
    ANONYMOUS_PULL: "public/*",
    MIRROR_UPSTREAMS: JSON.stringify({ "docker.io": { url: `http://${upstream.host}`, libraryPrefix: true } }),
    MIRROR_DEFAULT_UPSTREAM: "docker.io",
  });
  robot = makeRobot(sys, "docker", ["dock/*=pull,push", "seed/*=pull"]);
  await seed(img, sys.host, "seed", sys.creds);
  containerd = new Containerd();
  await containerd.start();
  dockerd = new Dockerd({ containerd: containerd.socket, mirrors: [sys.mirror] });
  await dockerd.start();
});

afterAll(async () => {
  await dockerd?.dispose();
  await containerd?.dispose();
  await sys?.stop();
  await upstream?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ref = (name: string) => `${sys.host}/${name}`;
const denied = /unauthorized|denied|authentication required/i;

interface DockerImage {
  Id: string;
  RepoDigests: string[];
  Architecture: string;
  Variant?: string;
}
const inspect = async (name: string) => (JSON.parse(await dockerd.mustDocker(["image", "inspect", name])) as DockerImage[])[0]!;
const configOf = (m: (typeof img)["single"]) => blobsOf(img, m)[0]!;

describe("docker against the registry", () => {
  test("a private pull is refused until docker login; login keeps a refresh token, not the secret", async () => {
    const before = await dockerd.docker(["pull", ref("seed/single:1")]);
    expect(before.code).not.toBe(0);
    expect(before.stderr).toMatch(denied);

    const out = await dockerd.mustDocker(["login", "-u", robot.name, "--password-stdin", sys.host], { input: robot.secret });
    expect(out).toMatch(/Login Succeeded/);
    const config = JSON.parse(readFileSync(path.join(dockerd.config, "config.json"), "utf8")) as {
      auths: Record<string, { auth?: string; identitytoken?: string }>;
    };
    const entry = config.auths[sys.host];
    expect(entry?.identitytoken).toBeTruthy();
    expect(Buffer.from(entry?.auth ?? "", "base64").toString()).not.toContain(robot.secret);

    await dockerd.mustDocker(["pull", ref("seed/single:1")]);
    const pulled = await inspect(ref("seed/single:1"));
    expect(pulled.Id).toBe(configOf(img.single));
    expect(pulled.Architecture).toBe("amd64");
    expect(pulled.RepoDigests).toContain(`${ref("seed/single")}@${img.single.digest}`);
  });

  test("pull --platform linux/arm64 takes the arm64/v8 image of an index", async () => {
    await dockerd.mustDocker(["pull", "--platform", "linux/arm64", ref("seed/multi:1")]);
    const pulled = await inspect(ref("seed/multi:1"));
    expect(pulled.Id).toBe(configOf(img.arch.get("arm64")!));
    expect(pulled.Architecture).toBe("arm64");
    expect(pulled.RepoDigests).toContain(`${ref("seed/multi")}@${img.multi.digest}`);
  });

  test("tag and push: the registry holds the image, its layers mounted from the repository pulled from", async () => {
    await dockerd.mustDocker(["tag", ref("seed/single:1"), ref("dock/app:pushed")]);
    const out = await dockerd.mustDocker(["push", ref("dock/app:pushed")]);
    const pushed = /pushed: digest: (sha256:[0-9a-f]{64}) size: (\d+)/.exec(out);
    expect(pushed, out).not.toBeNull();
    expect(out).toMatch(/Mounted from seed\/single/);
    const stored = await manifest(sys, "dock/app", "pushed");
    expect(stored.digest).toBe(pushed![1]);
    expect(stored.mediaType).toBe(V2S2);
    expect(stored.json.config?.digest).toBe(configOf(img.single));
    expect(await blobHeads(sys, "dock/app", stored)).toEqual(allPresent(stored));

    await dockerd.mustDocker(["tag", ref("seed/single:1"), ref("seed/single:mine")]);
    const refused = await dockerd.docker(["push", ref("seed/single:mine")]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(denied);
    expect((await manifest(sys, "seed/single", "mine")).status).toBe(404);
  });
});

describe("docker through the mirror (registry-mirrors)", () => {
  test("Docker Hub names (single:1 = docker.io/library/single:1) come through the mirror from its upstream", async () => {
    const before = upstream.requests.length;
    await dockerd.mustDocker(["pull", "single:1"]);
    const pulled = await inspect("single:1");
    expect(pulled.Id).toBe(configOf(img.single));
    expect(pulled.RepoDigests).toContain(`single@${img.single.digest}`);
    expect(upstream.requests.slice(before).some((l) => l.includes("/v2/library/single/manifests/"))).toBe(true);

    await dockerd.mustDocker(["pull", "--platform", "linux/arm64", "multi:1"]);
    const arm = await inspect("multi:1");
    expect(arm.Id).toBe(configOf(img.arch.get("arm64")!));
    expect(arm.Architecture).toBe("arm64");
  });

  test("with the upstream stopped, the mirror's cache serves the pull again", async () => {
    await dockerd.mustDocker(["rmi", "single:1"]);
    await upstream.stop();
    try {
      await dockerd.mustDocker(["pull", "single:1"]);
      expect((await inspect("single:1")).Id).toBe(configOf(img.single));
    } finally {
      await upstream.start();
    }
  });
});
