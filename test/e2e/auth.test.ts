import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OciLayout } from "../support/oci-layout";
import { ok, skopeo } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * Docker token auth end to end: the system as README command 1 starts it (public/* anonymous), a CI robot
 * made with the operators' CLI, skopeo login / --authfile / --dest-creds, and the token dance seen with plain
 * HTTP requests (401 challenge → token → 200).
 */

const ROOT = path.resolve(__dirname, "../..");
let sys: RunningSystem;
let work: string;
let layout: OciLayout;
let robot: { name: string; secret: string };

beforeAll(async () => {
  sys = await startSystem({ ANONYMOUS_PULL: "public/*" });
  work = mkdtempSync(path.join(tmpdir(), "auth-e2e-"));
  layout = new OciLayout(path.join(work, "layout"));
  layout.tag(layout.image({ layers: [layout.layer("a.txt", "auth test\n")] }), "img");
  robot = createRobot("ci", "ci/*=pull,push");
  for (const repo of ["public/app", "private/app"]) {
    await ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${layout.dir}:img`, `docker://${sys.host}/${repo}:1`]);
  }
});

afterAll(async () => {
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const ref = (repo: string) => `docker://${sys.host}/${repo}`;

/** The operators' CLI (workers/auth/bin/robots.mjs) against this system, with its admin token; returns stdout. */
function robotsCli(...args: string[]): string {
  const admin = (JSON.parse(readFileSync(path.join(sys.stateDir, "auth-secrets.json"), "utf8")) as { adminToken: string }).adminToken;
  return execFileSync(process.execPath, [path.join(ROOT, "workers/auth/bin/robots.mjs"), ...args, "--url", sys.auth, "--admin-token", admin], {
    encoding: "utf8",
  });
}

/** A robot made with the CLI, allowed only what `rule` says (plus the anonymous pull rules). */
function createRobot(name: string, rule: string): { name: string; secret: string } {
  return JSON.parse(robotsCli("create", name, "--rule", rule, "--json")) as { name: string; secret: string };
}

/** A token for `who` from the realm, for these scopes (the auth worker grants the part it may). */
async function tokenFor(who: { name: string; secret: string }, ...scopes: string[]): Promise<string> {
  const query = scopes.map((s) => `scope=${encodeURIComponent(s)}`).join("&");
  const res = await fetch(`${sys.auth}/token?service=edge-registry&${query}`, {
    headers: { Authorization: `Basic ${Buffer.from(`${who.name}:${who.secret}`).toString("base64")}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

function challenge(res: Response): Record<string, string> {
  const header = res.headers.get("www-authenticate") ?? "";
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe("the token dance over plain HTTP", () => {
  test("401 with a challenge → anonymous token from the realm → 200", async () => {
    const first = await fetch(`${sys.registry}/v2/public/app/manifests/1`);
    expect(first.status).toBe(401);
    expect(((await first.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("UNAUTHORIZED");
    const c = challenge(first);
    expect(c).toMatchObject({ realm: `${sys.auth}/token`, service: "edge-registry", scope: "repository:public/app:pull" });
    const tokenRes = await fetch(`${c.realm}?service=${c.service}&scope=${encodeURIComponent(c.scope!)}`);
    expect(tokenRes.status).toBe(200);
    const body = (await tokenRes.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBeGreaterThan(0);
    const second = await fetch(`${sys.registry}/v2/public/app/manifests/1`, {
      headers: { Authorization: `Bearer ${body.token}`, Accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    expect(second.status).toBe(200);
  });

  test("an anonymous token does not open a private repository, nor a push", async () => {
    const anon = (await (await fetch(`${sys.auth}/token?service=edge-registry&scope=repository:private/app:pull&scope=repository:public/app:pull,push`)).json()) as { token: string };
    const priv = await fetch(`${sys.registry}/v2/private/app/manifests/1`, { headers: { Authorization: `Bearer ${anon.token}` } });
    expect(priv.status).toBe(401);
    expect(challenge(priv).error).toBe("insufficient_scope");
    expect(((await priv.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("DENIED");
    const push = await fetch(`${sys.registry}/v2/public/app/blobs/uploads/`, { method: "POST", headers: { Authorization: `Bearer ${anon.token}` } });
    expect(push.status).toBe(401);
    expect(challenge(push)).toMatchObject({ scope: "repository:public/app:pull,push", error: "insufficient_scope" });
  });

  test("garbage and forged tokens are refused with 401, never a 5xx", async () => {
    const [header, payload] = (await sys.token("public/app"))!.split(".");
    const forged = [
      "garbage",
      "a.b.c",
      `${header}.${payload}.`,
      `eyJhbGciOiJub25lIn0.${payload}.`,
      "x".repeat(9_000), // over the registry's 8 KiB Authorization limit
    ];
    for (const t of forged) {
      const res = await fetch(`${sys.registry}/v2/public/app/tags/list`, { headers: { Authorization: `Bearer ${t}` } });
      expect(res.status, t.slice(0, 40)).toBe(401);
    }
    // a header over the front's 16 KiB limit never reaches the registry: 431, as at the edge
    const huge = await fetch(`${sys.registry}/v2/public/app/tags/list`, { headers: { Authorization: `Bearer ${"x".repeat(20_000)}` } });
    expect(huge.status).toBe(431);
    const catalog = await fetch(`${sys.registry}/v2/_catalog`, { headers: { Authorization: `Bearer ${await sys.token("public/app")}` } });
    expect(catalog.status).toBe(401);
    expect((await sys.fetch("/v2/_catalog")).status).toBe(200);
  });
});

describe("real clients", () => {
  test("anonymous skopeo inspect/copy of a public repository; refused on a private one", async () => {
    const info = JSON.parse(await ok(["inspect", "--tls-verify=false", ref("public/app:1")])) as { Layers: string[] };
    expect(info.Layers).toHaveLength(1);
    await ok(["copy", "--src-tls-verify=false", ref("public/app:1"), `dir:${path.join(work, "anon-pull")}`]);
    const denied = await skopeo(["inspect", "--tls-verify=false", ref("private/app:1")]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/unauthorized|denied|authentication required/i);
  });

  test("skopeo login + --authfile: the CI robot pushes to its namespace and is refused elsewhere", async () => {
    const authfile = path.join(work, "auth.json");
    await ok(["login", "--tls-verify=false", "--authfile", authfile, "-u", robot.name, "-p", robot.secret, sys.host]);
    await ok(["copy", "--dest-tls-verify=false", "--authfile", authfile, `oci:${layout.dir}:img`, ref("ci/app:build-1")]);
    const tags = JSON.parse(await ok(["list-tags", "--tls-verify=false", "--authfile", authfile, ref("ci/app")])) as { Tags: string[] };
    expect(tags.Tags).toEqual(["build-1"]);
    const elsewhere = await skopeo(["copy", "--dest-tls-verify=false", "--authfile", authfile, `oci:${layout.dir}:img`, ref("other/app:1")]);
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toMatch(/unauthorized|denied|authentication required/i);
    const badLogin = await skopeo(["login", "--tls-verify=false", "--authfile", authfile, "-u", robot.name, "-p", "wrong", sys.host]);
    expect(badLogin.code).not.toBe(0);
  });

  test("--dest-creds works too; a revoked robot is refused at once", async () => {
    const creds = `${robot.name}:${robot.secret}`;
    await ok(["copy", "--dest-tls-verify=false", "--dest-creds", creds, `oci:${layout.dir}:img`, ref("ci/app:build-2")]);
    robotsCli("revoke", "ci");
    const after = await skopeo(["copy", "--dest-tls-verify=false", "--dest-creds", creds, `oci:${layout.dir}:img`, ref("ci/app:build-3")]);
    expect(after.code).not.toBe(0);
  });
});

describe("cross-repository mount as a restricted robot (never from a repository it cannot pull)", () => {
  let mounter: { name: string; secret: string };
  let secret: string;
  let shared: { digest: string; bytes: string };

  /** Pushes a blob as the local robot (POST ?digest=) and returns its digest. */
  async function pushBlob(repository: string, bytes: string): Promise<string> {
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const res = await sys.fetch(`/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: "POST", body: bytes });
    expect(res.status).toBe(201);
    return digest;
  }

  function mount(token: string, target: string, digest: string, from?: string): Promise<Response> {
    const query = `?mount=${digest}${from ? `&from=${from}` : ""}`;
    return fetch(`${sys.registry}/v2/${target}/blobs/uploads/${query}`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
  }

  function getBlob(token: string, repository: string, digest: string): Promise<Response> {
    return fetch(`${sys.registry}/v2/${repository}/blobs/${digest}`, { headers: { Authorization: `Bearer ${token}` } });
  }

  beforeAll(async () => {
    mounter = createRobot("mounter", "ci/*=pull,push");
    secret = await pushBlob("private/app", `only in the private repository ${Date.now()}`);
    const bytes = `anyone may pull this ${Date.now()}`;
    shared = { digest: await pushBlob("public/app", bytes), bytes };
  });

  test("a blob only in a private repository: 202 with and without from, and unreadable from the target", async () => {
    // the robot asks for pull on the private repository too; the auth worker leaves it out
    const token = await tokenFor(mounter, "repository:ci/mount:pull,push", "repository:private/app:pull");
    expect((await getBlob(token, "private/app", secret)).status).toBe(401);
    for (const from of [undefined, "private/app"]) {
      const res = await mount(token, "ci/mount", secret, from);
      expect(res.status, String(from)).toBe(202);
      expect(res.headers.get("location")).toMatch(/^\/v2\/ci\/mount\/blobs\/uploads\/[0-9a-f-]{36}$/);
      expect(res.headers.get("docker-content-digest")).toBeNull();
      const read = await getBlob(token, "ci/mount", secret);
      expect(read.status).toBe(404);
      expect(((await read.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("BLOB_UNKNOWN");
    }
  });

  test("from a repository its token can pull (here anonymously pullable): 201 with and without from", async () => {
    const token = await tokenFor(mounter, "repository:ci/mounted:pull,push", "repository:public/app:pull");
    const withFrom = await mount(token, "ci/mounted", shared.digest, "public/app");
    expect(withFrom.status).toBe(201);
    expect(withFrom.headers.get("docker-content-digest")).toBe(shared.digest);
    expect(await (await getBlob(token, "ci/mounted", shared.digest)).text()).toBe(shared.bytes);

    const other = await tokenFor(mounter, "repository:ci/mounted2:pull,push", "repository:public/app:pull");
    expect((await mount(other, "ci/mounted2", shared.digest)).status).toBe(201);
    expect(await (await getBlob(other, "ci/mounted2", shared.digest)).text()).toBe(shared.bytes);
  });
});
