import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DENIED } from "../support/clients";
import { dumpedRequests } from "../support/containerd";
import { ClientFixture } from "../support/fixture";
import { blobsOf } from "../support/images";
import { allPresent, blobHeads, manifest } from "../support/registry-view";
import { freePort } from "../support/upstream";

/**
 * Debian's containerd (1.6, driven with `ctr`) against the system as README command 1 starts it, token auth
 * on, anonymous pulls only for public/*: pulls by tag, by digest, by platform and of every platform, a push
 * with a CLI robot's credentials, and pulls through the mirror configured as containerd's hosts.toml mirror
 * for docker.io (upstream: Debian's docker-registry on loopback).
 */

let f: ClientFixture;

beforeAll(async () => {
  f = new ClientFixture("containerd", { rules: ["ctr/*=pull,push", "seed/*=pull"], mirror: true, containerd: true });
  await f.start();
});

afterAll(async () => f?.dispose());

const ref = (name: string) => f.ref(name);
const pull = (ns: string, name: string, ...flags: string[]) =>
  f.containerd.ctr(ns, ["images", "pull", "--plain-http", "--user", f.robot.creds, ...flags, ref(name)]);

describe("ctr against the registry", () => {
  test("pull by tag and by digest with the robot's credentials; anonymous pull of a private repository refused", async () => {
    const anonymous = await f.containerd.ctr("tag", ["images", "pull", "--plain-http", ref("seed/single:1")]);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(DENIED);

    expect((await pull("tag", "seed/single:1")).code).toBe(0);
    const byDigest = `seed/multi@${f.img.arch.get("arm64")!.digest}`;
    expect((await pull("tag", byDigest)).code).toBe(0);
    const images = await f.containerd.images("tag");
    expect(images.get(ref("seed/single:1"))).toBe(f.img.single.digest);
    expect(images.get(ref(byDigest))).toBe(f.img.arch.get("arm64")!.digest);
    const content = await f.containerd.content("tag");
    for (const d of [...blobsOf(f.img, f.img.single), ...blobsOf(f.img, f.img.arch.get("arm64")!)]) expect(content).toContain(d);
  });

  test("--platform linux/arm64 takes the arm64/v8 image of an index, and only that one", async () => {
    expect((await pull("arm", "seed/multi:1", "--platform", "linux/arm64")).code).toBe(0);
    expect((await f.containerd.images("arm")).get(ref("seed/multi:1"))).toBe(f.img.multi.digest);
    const content = await f.containerd.content("arm");
    expect(content).toContain(f.img.arch.get("arm64")!.digest);
    for (const d of blobsOf(f.img, f.img.arch.get("arm64")!)) expect(content).toContain(d);
    expect(content).not.toContain(f.img.arch.get("amd64")!.digest);
  });

  test("--all-platforms, then push of the whole index (--user, --plain-http): the registry holds the same bytes", async () => {
    expect((await pull("all", "seed/multi:1", "--all-platforms")).code).toBe(0);
    const content = await f.containerd.content("all");
    for (const child of f.img.arch.values()) for (const d of [child.digest, ...blobsOf(f.img, child)]) expect(content).toContain(d);

    const src = ref("seed/multi:1");
    const push = await f.containerd.ctr("all", ["images", "push", "--plain-http", "--user", f.robot.creds, ref("ctr/multi:pushed"), src]);
    expect(push.code, push.stderr).toBe(0);
    const index = await manifest(f.sys, "ctr/multi", "pushed");
    expect(index.digest).toBe(f.img.multi.digest);
    expect(index.bodyDigest).toBe(f.img.multi.digest);
    for (const child of f.img.arch.values()) {
      const m = await manifest(f.sys, "ctr/multi", child.digest);
      expect(m.status).toBe(200);
      expect(await blobHeads(f.sys, "ctr/multi", m)).toEqual(allPresent(m));
    }

    const refused = await f.containerd.ctr("all", ["images", "push", "--plain-http", "--user", f.robot.creds, ref("seed/multi:mine"), src]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(DENIED);
    expect((await manifest(f.sys, "seed/multi", "mine")).status).toBe(404);
  });

  test("a wrong password: the POST /token grant's 400 invalid_grant sends ctr to GET /token, whose 401 it reports", async () => {
    const wrong = await f.containerd.ctr("wrong", ["images", "pull", "--plain-http", "--http-dump", "--user", `${f.robot.name}:wrong`, ref("seed/multi:1")]);
    expect(wrong.code).not.toBe(0);
    const dump = wrong.stdout + wrong.stderr;
    expect(dump).toMatch(/POST \/token/);
    expect(dump).toMatch(/400 Bad Request/);
    expect(dump).toMatch(/GET \/token\?/);
    expect(dump).toMatch(/401 Unauthorized/);
  });
});

describe("ctr through the mirror (hosts.toml for docker.io)", () => {
  let hostsDir: string;
  let closedPort: number;
  const mirrorHost = () => new URL(f.sys.mirror).host;
  const viaMirror = (ns: string, ref: string, ...flags: string[]) =>
    f.containerd.ctr(ns, ["images", "pull", "--hosts-dir", hostsDir, "--http-dump", ...flags, `docker.io/library/${ref}`]);

  beforeAll(async () => {
    // The server is a closed loopback port: a request that skipped the mirror would fail here, never leave.
    closedPort = await freePort();
    hostsDir = f.containerd.hostsToml("docker.io", [
      `server = "http://127.0.0.1:${closedPort}"`,
      "",
      `[host."${f.sys.mirror}"]`,
      '  capabilities = ["pull", "resolve"]',
    ]);
  });

  /** Every request went to the mirror with ?ns=docker.io; returns the GETs. */
  function checkDump(output: string): string[] {
    const requests = dumpedRequests(output);
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.host, r.target).toBe(mirrorHost());
      expect(new URL(r.target, f.sys.mirror).searchParams.get("ns"), r.target).toBe("docker.io");
    }
    return requests.filter((r) => r.method === "GET").map((r) => new URL(r.target, f.sys.mirror).pathname);
  }

  test("a pull goes to the mirror with ?ns=docker.io; the mirror fetched it from the upstream", async () => {
    const before = f.upstream.requests.length;
    const r = await viaMirror("mirror-1", "single:1");
    expect(r.code, r.stderr).toBe(0);
    const gets = checkDump(r.stdout + r.stderr);
    expect(gets).toContain(`/v2/library/single/manifests/${f.img.single.digest}`);
    for (const d of blobsOf(f.img, f.img.single)) expect(gets).toContain(`/v2/library/single/blobs/${d}`);
    expect((await f.containerd.images("mirror-1")).get("docker.io/library/single:1")).toBe(f.img.single.digest);
    expect(f.upstream.requests.slice(before).some((l) => l.includes("/v2/library/single/manifests/"))).toBe(true);

    const arm = await viaMirror("mirror-1", "multi:1", "--platform", "linux/arm64");
    expect(arm.code, arm.stderr).toBe(0);
    checkDump(arm.stdout + arm.stderr);
    expect(await f.containerd.content("mirror-1")).toContain(f.img.arch.get("arm64")!.digest);
  });

  test("with the upstream stopped, a fresh namespace pulls everything again from the mirror's cache", async () => {
    await f.upstream.stop();
    try {
      const r = await viaMirror("mirror-2", "single:1");
      expect(r.code, r.stderr).toBe(0);
      const gets = checkDump(r.stdout + r.stderr);
      for (const d of blobsOf(f.img, f.img.single)) expect(gets).toContain(`/v2/library/single/blobs/${d}`);
      expect((await f.containerd.images("mirror-2")).get("docker.io/library/single:1")).toBe(f.img.single.digest);
      const content = await f.containerd.content("mirror-2");
      for (const d of [f.img.single.digest, ...blobsOf(f.img, f.img.single)]) expect(content).toContain(d);

      const arm = await viaMirror("mirror-2", "multi:1", "--platform", "linux/arm64");
      expect(arm.code, arm.stderr).toBe(0);
      expect(await f.containerd.content("mirror-2")).toContain(f.img.arch.get("arm64")!.digest);
    } finally {
      await f.upstream.start();
    }
  });
});
