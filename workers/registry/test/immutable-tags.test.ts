import { env } from "cloudflare:test";
import { DoPolicyStore } from "@registry/storage";
import { describe, expect, test } from "vitest";
import worker, { type Env } from "../src/index";
import { BASE, call, OCI_MANIFEST, pushImage } from "./helpers";

/**
 * Immutable tags (issue 10 §3) through the worker: under a rule (repository pattern + tag glob) an existing tag
 * can be neither moved nor deleted — 403 DENIED naming the rule, nothing changed — while pushing the identical
 * manifest again succeeds; cosign's `sha256-<hex>.sig/.att/.sbom` tags are covered only by a rule that names them.
 */
const policy = new DoPolicyStore((env as unknown as Env).POLICY);
const put = (repo: string, ref: string, body: string) =>
  call({ method: "PUT", path: `/v2/${repo}/manifests/${ref}`, headers: { "Content-Type": OCI_MANIFEST }, body });
const digestOf = async (repo: string, ref: string) =>
  (await call({ method: "HEAD", path: `/v2/${repo}/manifests/${ref}` })).headers.get("docker-content-digest");
const variant = (body: string, n: number) => body.replace(/}$/, `, "annotations": {"n": "${n}"}}`);

async function refused(res: Response, tag: string, rule: string) {
  expect(res.status).toBe(403);
  const body = (await res.json()) as { errors: { code: string; message: string; detail: { tag: string; rule: string } }[] };
  expect(body.errors[0]).toMatchObject({ code: "DENIED", detail: { tag, rule } });
  expect(body.errors[0]!.message).toContain(`rule ${rule}`);
}

describe("immutable tags", () => {
  test("a covered tag is neither moved nor deleted; the identical manifest may be pushed again; other tags move", async () => {
    const { digest, body } = await pushImage("imm/app", "v1", ["i1"]);
    await put("imm/app", "latest", body);
    const rule = await policy.addImmutableRule("imm/*", "v*");
    try {
      expect((await put("imm/app", "v1", body)).status).toBe(201);
      await refused(await put("imm/app", "v1", variant(body, 1)), "v1", rule.id);
      expect(await digestOf("imm/app", "v1")).toBe(digest);
      await refused(await call({ method: "DELETE", path: "/v2/imm/app/manifests/v1" }), "v1", rule.id);
      await refused(await call({ method: "DELETE", path: `/v2/imm/app/manifests/${digest}` }), "v1", rule.id);
      expect(await digestOf("imm/app", "v1")).toBe(digest);
      expect((await put("imm/app", "latest", variant(body, 2))).status).toBe(201);
      expect((await put("imm/app", "v2", body)).status).toBe(201);
    } finally {
      expect(await policy.removeImmutableRule(rule.id)).toBe(true);
    }
    expect((await put("imm/app", "v1", variant(body, 3))).status).toBe(201);
  });

  test("cosign's signature tags stay movable under a rule like '*' unless the rule names them", async () => {
    const { body } = await pushImage("imm/signed", "v1", ["s1"]);
    const sig = `sha256-${"b".repeat(64)}.sig`;
    await put("imm/signed", sig, body);
    const everything = await policy.addImmutableRule("imm/signed", "*");
    try {
      expect((await put("imm/signed", sig, variant(body, 1))).status).toBe(201);
      await refused(await put("imm/signed", "v1", variant(body, 1)), "v1", everything.id);
      const signatures = await policy.addImmutableRule("imm/signed", "sha256-*");
      try {
        await refused(await put("imm/signed", sig, variant(body, 2)), sig, signatures.id);
      } finally {
        await policy.removeImmutableRule(signatures.id);
      }
    } finally {
      await policy.removeImmutableRule(everything.id);
    }
  });
});

describe("the admin API of immutable-tag rules", () => {
  const admin = (path: string, init: RequestInit = {}, token: string | undefined = "secret") =>
    worker.fetch(new Request(`${BASE}${path}`, { ...init, headers: { Authorization: "Bearer letmein", ...init.headers } }), {
      ...(env as unknown as Env),
      ADMIN_TOKEN: token,
    });

  test("closed without ADMIN_TOKEN, 401 for a wrong token, 400 for a bad pattern; add, list, remove", async () => {
    expect((await admin("/admin/immutability", {}, undefined)).status).toBe(401);
    expect((await admin("/admin/immutability")).status).toBe(401);
    const auth = { Authorization: "Bearer secret" };
    const bad = await admin("/admin/immutability", { method: "POST", headers: auth, body: JSON.stringify({ repository: "Bad", tag: "v*" }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/repository/);
    const added = await admin("/admin/immutability", { method: "POST", headers: auth, body: JSON.stringify({ repository: "adm/*", tag: "v*" }) });
    expect(added.status).toBe(201);
    const rule = (await added.json()) as { id: string };
    const list = (await (await admin("/admin/immutability", { headers: auth })).json()) as { rules: { id: string; repository: string; tag: string }[] };
    expect(list.rules).toContainEqual(expect.objectContaining({ id: rule.id, repository: "adm/*", tag: "v*" }));
    expect((await admin(`/admin/immutability/${rule.id}`, { method: "DELETE", headers: auth })).status).toBe(204);
    expect((await admin(`/admin/immutability/${rule.id}`, { method: "DELETE", headers: auth })).status).toBe(404);
  });
});
