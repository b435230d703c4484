import { env } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { ADMIN, admin, call, createRobot, getToken, unique } from "./helpers";

type Errors = { errors: { code: string; message: string }[] };

describe("the admin API refuses callers without the admin token", () => {
  const endpoints: [string, string][] = [
    ["POST", "/admin/robots"],
    ["GET", "/admin/robots"],
    ["DELETE", "/admin/robots/ci"],
    ["POST", "/admin/users"],
    ["GET", "/admin/users"],
    ["DELETE", "/admin/users/alice"],
  ];
  test.each(endpoints)("%s %s: none, wrong, Basic, prefix of the token → 401", async (method, path) => {
    const headers: Record<string, string>[] = [
      {},
      { Authorization: "Bearer wrong" },
      { Authorization: `Basic ${btoa(`admin:${ADMIN}`)}` },
      { Authorization: `Bearer ${ADMIN.slice(0, -1)}` },
      { Authorization: `Bearer ${ADMIN}x` },
      { Authorization: `Bearer ${"x".repeat(10_000)}` },
    ];
    for (const [i, h] of headers.entries()) {
      const res = await call({ method, path, headers: { ...h, "CF-Connecting-IP": `198.18.${endpoints.findIndex(([m, p]) => m === method && p === path)}.${i}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="admin"');
      expect(((await res.json()) as Errors).errors[0]!.code).toBe("UNAUTHORIZED");
    }
  });

  test("with ADMIN_TOKEN unset the admin API is closed", async () => {
    const closed: Env = { ...(env as Env), ADMIN_TOKEN: "" };
    const res = await worker.fetch(new Request("http://auth.test/admin/robots", { headers: { Authorization: "Bearer " } }), closed);
    expect(res.status).toBe(401);
    const res2 = await worker.fetch(new Request("http://auth.test/admin/robots", { headers: { Authorization: `Bearer ${ADMIN}` } }), closed);
    expect(res2.status).toBe(401);
  });
});

describe("robots", () => {
  test("create → 201 with robot$<name> and a secret shown once; list shows no secrets; revoke → login refused at once", async () => {
    const name = unique("deploy");
    const created = await admin("POST", "/admin/robots", { name, description: "deploys", rules: [{ repository: "ci/*", actions: ["pull", "push", "pull"] }] });
    expect(created.status).toBe(201);
    const robot = (await created.json()) as { name: string; secret: string; rules: unknown; description: string; catalog: boolean; createdAt: string };
    expect(robot.name).toBe(`robot$${name}`);
    expect(robot.secret).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(robot).toMatchObject({ rules: [{ repository: "ci/*", actions: ["pull", "push"] }], description: "deploys", catalog: false });
    expect(created.headers.get("cache-control")).toBe("no-store");

    const list = await admin("GET", "/admin/robots");
    const text = await list.text();
    expect(text).not.toContain(robot.secret);
    expect(text).not.toMatch(/secret|pbkdf2/i);
    expect((JSON.parse(text) as { robots: { name: string }[] }).robots.map((r) => r.name)).toContain(robot.name);

    expect((await getToken(["repository:ci/app:pull"], robot)).status).toBe(200);
    expect((await admin("DELETE", `/admin/robots/${name}`)).status).toBe(204);
    const refused = await getToken(["repository:ci/app:pull"], robot);
    expect(refused.status).toBe(401);
    expect((await admin("DELETE", `/admin/robots/${name}`)).status).toBe(404);
    const after = (await (await admin("GET", "/admin/robots")).json()) as { robots: { name: string }[] };
    expect(after.robots.map((r) => r.name)).not.toContain(robot.name);
  });

  test("the full name (robot%24name) is accepted by DELETE too", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    expect((await admin("DELETE", `/admin/robots/${encodeURIComponent(robot.name)}`)).status).toBe(204);
  });

  test("a taken name → 409", async () => {
    const name = unique("dup");
    expect((await admin("POST", "/admin/robots", { name, rules: [] })).status).toBe(201);
    const again = await admin("POST", "/admin/robots", { name, rules: [] });
    expect(again.status).toBe(409);
    expect(((await again.json()) as Errors).errors[0]!.code).toBe("CONFLICT");
  });

  test.each<[string, unknown]>([
    ["no name", { rules: [] }],
    ["uppercase name", { name: "CI", rules: [] }],
    ["name with $", { name: "robot$x", rules: [] }],
    ["name with /", { name: "a/b", rules: [] }],
    ["long name", { name: "a".repeat(65), rules: [] }],
    ["rules not an array", { name: "ok", rules: "ci/*=pull" }],
    ["bad pattern", { name: "ok", rules: [{ repository: "ci/**", actions: ["pull"] }] }],
    ["bad pattern 2", { name: "ok", rules: [{ repository: "*/x", actions: ["pull"] }] }],
    ["bad pattern 3", { name: "ok", rules: [{ repository: "Ci/app", actions: ["pull"] }] }],
    ["unknown action", { name: "ok", rules: [{ repository: "ci/*", actions: ["write"] }] }],
    ["no actions", { name: "ok", rules: [{ repository: "ci/*", actions: [] }] }],
    ["catalog not boolean", { name: "ok", rules: [], catalog: "yes" }],
    ["description not string", { name: "ok", rules: [], description: 5 }],
  ])("%s → 400", async (_, body) => {
    const res = await admin("POST", "/admin/robots", body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Errors).errors[0]!.code).toBe("INVALID_REQUEST");
  });

  test("not JSON → 415 / 400; too large → 413", async () => {
    const headers = { Authorization: `Bearer ${ADMIN}`, "CF-Connecting-IP": "203.0.113.251" };
    expect((await call({ method: "POST", path: "/admin/robots", headers, body: "name=x" })).status).toBe(415);
    expect((await call({ method: "POST", path: "/admin/robots", headers: { ...headers, "Content-Type": "application/json" }, body: "{" })).status).toBe(400);
    expect((await call({ method: "POST", path: "/admin/robots", headers: { ...headers, "Content-Type": "application/json" }, body: "[]" })).status).toBe(400);
    const big = JSON.stringify({ name: "x", rules: [], description: "d".repeat(70_000) });
    expect((await call({ method: "POST", path: "/admin/robots", headers: { ...headers, "Content-Type": "application/json" }, body: big })).status).toBe(413);
  });
});

describe("users", () => {
  test("create (password never echoed), log in with Basic, list, delete", async () => {
    const name = unique("alice");
    const created = await admin("POST", "/admin/users", { name, password: "s3cret-pass", rules: [{ repository: "alice/*", actions: ["*"] }], catalog: true });
    expect(created.status).toBe(201);
    const text = await created.text();
    expect(text).not.toContain("s3cret-pass");
    expect(JSON.parse(text)).toMatchObject({ name, kind: "user", catalog: true });

    const res = await getToken(["repository:alice/app:delete", "registry:catalog:*"], { name, secret: "s3cret-pass" });
    expect(res.status).toBe(200);
    const users = (await (await admin("GET", "/admin/users")).json()) as { users: { name: string }[] };
    expect(users.users.map((u) => u.name)).toContain(name);
    expect((await admin("DELETE", `/admin/users/${name}`)).status).toBe(204);
    expect((await getToken([], { name, secret: "s3cret-pass" })).status).toBe(401);
  });

  test("a short password → 400; robots and users live apart", async () => {
    expect((await admin("POST", "/admin/users", { name: unique("bob"), password: "short", rules: [] })).status).toBe(400);
    const robot = await createRobot([]);
    const bare = robot.name.slice("robot$".length);
    expect((await admin("DELETE", `/admin/users/${bare}`)).status).toBe(404);
    expect((await admin("DELETE", `/admin/users/${encodeURIComponent(robot.name)}`)).status).toBe(404);
  });
});
