import { describe, expect, test } from "vitest";
import worker from "../src/index";
import { ISSUER, SERVICE, admin, basic, claimsOf, createRobot, getToken, postToken, unique } from "./helpers";
import { env } from "cloudflare:test";

interface OAuthBody {
  access_token: string;
  token: string;
  expires_in: number;
  issued_at: string;
  scope: string;
  refresh_token?: string;
}

async function createUser(rules: unknown, password = "correct horse battery") {
  const name = unique("user");
  const res = await admin("POST", "/admin/users", { name, password, rules });
  expect(res.status).toBe(201);
  return { name, password };
}

describe("POST /token, grant_type=password", () => {
  test("a user gets the intersection; scope lists what was granted; no refresh token unless offline", async () => {
    const user = await createUser([{ repository: "team/*", actions: ["pull", "push"] }]);
    const res = await postToken({
      grant_type: "password",
      username: user.name,
      password: user.password,
      service: SERVICE,
      client_id: "dockerengine",
      scope: "repository:team/app:pull,push,delete repository:other/app:pull",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as OAuthBody;
    expect(body.token).toBe(body.access_token);
    expect(body.scope).toBe("repository:team/app:pull,push");
    expect(body.expires_in).toBe(300);
    expect(body.issued_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.refresh_token).toBeUndefined();
    expect(claimsOf(body.token)).toMatchObject({ sub: user.name, iss: ISSUER, aud: SERVICE });
  });

  test("access_type=offline returns a refresh token", async () => {
    const user = await createUser([{ repository: "team/*", actions: ["pull"] }]);
    const res = await postToken({ grant_type: "password", username: user.name, password: user.password, service: SERVICE, client_id: "c", access_type: "offline" });
    expect(((await res.json()) as OAuthBody).refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test("robots log in with the password grant too; a wrong password → 401", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const ok = await postToken({ grant_type: "password", username: robot.name, password: robot.secret, service: SERVICE, client_id: "c", scope: "repository:ci/x:pull" });
    expect(((await ok.json()) as OAuthBody).scope).toBe("repository:ci/x:pull");
    const bad = await postToken({ grant_type: "password", username: robot.name, password: "nope", service: SERVICE, client_id: "c" });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("UNAUTHORIZED");
  });

  test.each<[string, Record<string, string>, number, string]>([
    ["missing grant_type", { service: SERVICE, client_id: "c" }, 400, "INVALID_REQUEST"],
    ["unsupported grant_type", { grant_type: "client_credentials", service: SERVICE, client_id: "c" }, 400, "UNSUPPORTED_GRANT_TYPE"],
    ["authorization_code (reserved)", { grant_type: "authorization_code", service: SERVICE, client_id: "c" }, 400, "UNSUPPORTED_GRANT_TYPE"],
    ["missing client_id", { grant_type: "password", username: "u", password: "p", service: SERVICE }, 400, "INVALID_REQUEST"],
    ["missing service", { grant_type: "password", username: "u", password: "p", client_id: "c" }, 400, "INVALID_REQUEST"],
    ["other service", { grant_type: "password", username: "u", password: "p", service: "docker.io", client_id: "c" }, 400, "INVALID_REQUEST"],
    ["missing username", { grant_type: "password", password: "p", service: SERVICE, client_id: "c" }, 400, "INVALID_REQUEST"],
    ["missing refresh_token", { grant_type: "refresh_token", service: SERVICE, client_id: "c" }, 400, "INVALID_REQUEST"],
    ["malformed scope", { grant_type: "password", username: "u", password: "p", service: SERVICE, client_id: "c", scope: "repository:a" }, 400, "SCOPE_INVALID"],
  ])("%s → %i %s", async (_, form, status, code) => {
    const res = await postToken(form);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe(code);
  });

  test("not a form → 415; an oversize body → 413", async () => {
    const json = await postToken({}, { "Content-Type": "application/json" });
    expect(json.status).toBe(415);
    const { call } = await import("./helpers");
    const big = await call({
      method: "POST",
      path: "/token",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "scope=" + "a".repeat(70 * 1024),
    });
    expect(big.status).toBe(413);
  });
});

describe("refresh tokens", () => {
  async function offlineRobot() {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull", "push"] }]);
    const res = await getToken([], robot, { offline_token: "true", client_id: "docker" });
    const refresh = ((await res.json()) as { refresh_token: string }).refresh_token;
    return { robot, refresh };
  }

  test("a refresh token gets new tokens for other scopes, for the same subject; access_type=offline echoes it", async () => {
    const { robot, refresh } = await offlineRobot();
    const res = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "docker", scope: "repository:ci/app:push repository:x/y:pull" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as OAuthBody;
    expect(body.scope).toBe("repository:ci/app:push");
    expect(body.refresh_token).toBeUndefined();
    expect(claimsOf(body.token)).toMatchObject({ sub: robot.name, access: [{ type: "repository", name: "ci/app", actions: ["push"] }] });
    const again = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "docker", access_type: "offline", username: robot.name });
    expect(((await again.json()) as OAuthBody).refresh_token).toBe(refresh);
  });

  test("a refresh token presented as another subject → 401 (form username or Basic)", async () => {
    const { refresh } = await offlineRobot();
    const other = await createRobot([{ repository: "*", actions: ["*"] }]);
    const asOther = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "c", username: other.name });
    expect(asOther.status).toBe(401);
    const viaBasic = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "c" }, { Authorization: basic(other.name, other.secret) });
    expect(viaBasic.status).toBe(401);
  });

  test("a refresh token presented for another service → 401", async () => {
    const { refresh } = await offlineRobot();
    // The same worker configured for another service (as a second registry's auth would be): the token is bound to SERVICE.
    const otherEnv = { ...env, SERVICE: "other-registry" };
    const res = await worker.fetch(
      new Request("http://auth.test/token", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "192.0.2.77" },
        body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refresh, service: "other-registry", client_id: "c" }).toString(),
      }),
      otherEnv,
    );
    expect(res.status).toBe(401);
  });

  test("unknown, tampered or oversize refresh tokens → 401", async () => {
    const { refresh } = await offlineRobot();
    for (const t of ["nope", refresh.slice(0, -1) + (refresh.endsWith("A") ? "B" : "A"), "x".repeat(5000)]) {
      const res = await postToken({ grant_type: "refresh_token", refresh_token: t, service: SERVICE, client_id: "c" });
      expect(res.status).toBe(401);
    }
  });

  test("revoking the robot revokes its refresh tokens", async () => {
    const { robot, refresh } = await offlineRobot();
    expect((await admin("DELETE", `/admin/robots/${encodeURIComponent(robot.name)}`)).status).toBe(204);
    const res = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "c" });
    expect(res.status).toBe(401);
  });
});
