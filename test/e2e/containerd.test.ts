import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeRobot, scratch, type Robot } from "../support/clients";
import { Containerd, dumpedRequests } from "../support/containerd";
import { blobsOf, seed, testImages, type TestImages } from "../support/images";
import { allPresent, blobHeads, manifest } from "../support/registry-view";
import { startSystem, type RunningSystem } from "../support/system";
import { Distribution, freePort } from "../support/upstream";

/**
 * Debian's containerd (1.6, driven with `ctr`) against the system as README command 1 starts it, token auth
 * on, anonymous pulls only for public/*: pulls by tag, by digest, by platform and of every platform, a push
 * with a CLI robot's credentials, and pulls through the mirror configured as containerd's hosts.toml mirror
 * for docker.io (upstream: Debian's docker-registry on loopback).
 */

let upstream: Distribution;
let sys: RunningSystem;
let robot: Robot;
let containerd: Containerd;
let work: string;
let img: TestImages;

beforeAll(async () => {
  work = scratch("containerd-images");
  img = testImages(path.join(work, "layout"), "containerd");
  upstream = new Distribution(await freePort());
  await upstream.start();
  await seed(img, upstream.host, "library");
  sys = await startSystem({
    ANONYMOUS_PULL: "public/*",
    MIRROR_UPSTREAMS: JSON.stringify({ "docker.io": { url: `http://${upstream.host}`, libraryPrefix: true } }),
    MIRROR_DEFAULT_UPSTREAM: "docker.io",
  });
  robot = makeRobot(sys, "containerd", ["ctr/*=pull,push", "seed/*=pull"]);
  await seed(img, sys.host, "seed", sys.creds);
  containerd = new Containerd();
  await containerd.start();
});

afterAll(async () => {
  await containerd?.dispose();
  await sys?.stop();
  await upstream?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

const pull = (ns: string, ref: string, ...flags: string[]) =>
  containerd.ctr(ns, ["images", "pull", "--plain-http", "--user", robot.creds, ...flags, `${sys.host}/${ref}`]);

describe("ctr against the registry", () => {
  test("pull by tag and by digest with the robot's credentials; anonymous pull of a private repository refused", async () => {
    const anonymous = await containerd.ctr("tag", ["images", "pull", "--plain-http", `${sys.host}/seed/single:1`]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/401 Unauthorized|authorization/i);

    expect((await pull("tag", "seed/single:1")).code).toBe(0);
    const byDigest = `seed/multi@${img.arch.get("arm64")!.digest}`;
    expect((await pull("tag", byDigest)).code).toBe(0);
    const images = await containerd.images("tag");
    expect(images.get(`${sys.host}/seed/single:1`)).toBe(img.single.digest);
    expect(images.get(`${sys.host}/${byDigest}`)).toBe(img.arch.get("arm64")!.digest);
    const content = await containerd.content("tag");
    for (const d of [...blobsOf(img, img.single), ...blobsOf(img, img.arch.get("arm64")!)]) expect(content).toContain(d);
  });

  test("--platform linux/arm64 takes the arm64/v8 image of an index, and only that one", async () => {
    expect((await pull("arm", "seed/multi:1", "--platform", "linux/arm64")).code).toBe(0);
    expect((await containerd.images("arm")).get(`${sys.host}/seed/multi:1`)).toBe(img.multi.digest);
    const content = await containerd.content("arm");
    expect(content).toContain(img.arch.get("arm64")!.digest);
    for (const d of blobsOf(img, img.arch.get("arm64")!)) expect(content).toContain(d);
    expect(content).not.toContain(img.arch.get("amd64")!.digest);
  });

  test("--all-platforms, then push of the whole index (--user, --plain-http): the registry holds the same bytes", async () => {
    expect((await pull("all", "seed/multi:1", "--all-platforms")).code).toBe(0);
    const content = await containerd.content("all");
    for (const child of img.arch.values()) for (const d of [child.digest, ...blobsOf(img, child)]) expect(content).toContain(d);

    const src = `${sys.host}/seed/multi:1`;
    const push = await containerd.ctr("all", ["images", "push", "--plain-http", "--user", robot.creds, `${sys.host}/ctr/multi:pushed`, src]);
    expect(push.code, push.stderr).toBe(0);
    const index = await manifest(sys, "ctr/multi", "pushed");
    expect(index.digest).toBe(img.multi.digest);
    expect(index.bodyDigest).toBe(img.multi.digest);
    for (const child of img.arch.values()) {
      const m = await manifest(sys, "ctr/multi", child.digest);
      expect(m.status).toBe(200);
      expect(await blobHeads(sys, "ctr/multi", m)).toEqual(allPresent(m));
    }

    const refused = await containerd.ctr("all", ["images", "push", "--plain-http", "--user", robot.creds, `${sys.host}/seed/multi:mine`, src]);
    expect(refused.code).not.toBe(0);
    expect((await manifest(sys, "seed/multi", "mine")).status).toBe(404);
  });
});

describe("ctr through the mirror (hosts.toml for docker.io)", () => {
  let hostsDir: string;
  let closedPort: number;
  const mirrorHost = () => new URL(sys.mirror).host;
  const viaMirror = (ns: string, ref: string, ...flags: string[]) =>
    containerd.ctr(ns, ["images", "pull", "--hosts-dir", hostsDir, "--http-dump", ...flags, `docker.io/library/${ref}`]);

  beforeAll(async () => {
    // The server is a closed loopback port: a request that skipped the mirror would fail here, never leave.
    closedPort = await freePort();
    hostsDir = containerd.hostsToml("docker.io", [
      `server = "http://127.0.0.1:${closedPort}"`,
      "",
      `[host."${sys.mirror}"]`,
      '  capabilities = ["pull", "resolve"]',
    ]);
  });

  /** Every request went to the mirror with ?ns=docker.io; returns the GETs. */
  function checkDump(output: string): string[] {
    const requests = dumpedRequests(output);
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.host, r.target).toBe(mirrorHost());
      expect(new URL(r.target, sys.mirror).searchParams.get("ns"), r.target).toBe("docker.io");
    }
    return requests.filter((r) => r.method === "GET").map((r) => new URL(r.target, sys.mirror).pathname);
  }

  test("a pull goes to the mirror with ?ns=docker.io; the mirror fetched it from the upstream", async () => {
    const before = upstream.requests.length;
    const r = await viaMirror("mirror-1", "single:1");
    expect(r.code, r.stderr).toBe(0);
    const gets = checkDump(r.stdout + r.stderr);
    expect(gets).toContain(`/v2/library/single/manifests/${img.single.digest}`);
    for (const d of blobsOf(img, img.single)) expect(gets).toContain(`/v2/library/single/blobs/${d}`);
    expect((await containerd.images("mirror-1")).get("docker.io/library/single:1")).toBe(img.single.digest);
    expect(upstream.requests.slice(before).some((l) => l.includes("/v2/library/single/manifests/"))).toBe(true);

    const arm = await viaMirror("mirror-1", "multi:1", "--platform", "linux/arm64");
    expect(arm.code, arm.stderr).toBe(0);
    checkDump(arm.stdout + arm.stderr);
    expect(await containerd.content("mirror-1")).toContain(img.arch.get("arm64")!.digest);
  });

  test("with the upstream stopped, a fresh namespace pulls everything again from the mirror's cache", async () => {
    await upstream.stop();
    try {
      const r = await viaMirror("mirror-2", "single:1");
      expect(r.code, r.stderr).toBe(0);
      const gets = checkDump(r.stdout + r.stderr);
      for (const d of blobsOf(img, img.single)) expect(gets).toContain(`/v2/library/single/blobs/${d}`);
      expect((await containerd.images("mirror-2")).get("docker.io/library/single:1")).toBe(img.single.digest);
      const content = await containerd.content("mirror-2");
      for (const d of [img.single.digest, ...blobsOf(img, img.single)]) expect(content).toContain(d);

      const arm = await viaMirror("mirror-2", "multi:1", "--platform", "linux/arm64");
      expect(arm.code, arm.stderr).toBe(0);
      expect(await containerd.content("mirror-2")).toContain(img.arch.get("arm64")!.digest);
    } finally {
      await upstream.start();
    }
  });
});
