import { describe, expect, test } from "vitest";
import worker from "../src/index";
import { ISSUER, SERVICE, admin, basic, call, claimsOf, createRobot, getToken, postToken, unique } from "./helpers";
import { env } from "cloudflare:test";

/** RFC 6749 §5.2: what an OAuth2 client gets for a refused `POST /token`. */
async function expectOAuthError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/json");
  expect(res.headers.get("cache-control")).toBe("no-store");
  const body = (await res.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
  expect(body.error).toBe(error);
  expect(body.error_description).toEqual(expect.any(String));
}

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

  test("robots log in with the password grant too; a wrong password → 400 invalid_grant", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const ok = await postToken({ grant_type: "password", username: robot.name, password: robot.secret, service: SERVICE, client_id: "c", scope: "repository:ci/x:pull" });
    expect(((await ok.json()) as OAuthBody).scope).toBe("repository:ci/x:pull");
    const bad = await postToken({ grant_type: "password", username: robot.name, password: "nope", service: SERVICE, client_id: "c" });
    await expectOAuthError(bad, 400, "invalid_grant");
    expect(bad.headers.get("www-authenticate")).toBeNull();
  });

  test.each<[string, Record<string, string>, number, string]>([
    ["missing grant_type", { service: SERVICE, client_id: "c" }, 400, "invalid_request"],
    ["unsupported grant_type", { grant_type: "client_credentials", service: SERVICE, client_id: "c" }, 400, "unsupported_grant_type"],
    ["authorization_code (reserved)", { grant_type: "authorization_code", service: SERVICE, client_id: "c" }, 400, "unsupported_grant_type"],
    ["missing client_id", { grant_type: "password", username: "u", password: "p", service: SERVICE }, 400, "invalid_request"],
    ["missing service", { grant_type: "password", username: "u", password: "p", client_id: "c" }, 400, "invalid_request"],
    ["other service", { grant_type: "password", username: "u", password: "p", service: "docker.io", client_id: "c" }, 400, "invalid_request"],
    ["missing username", { grant_type: "password", password: "p", service: SERVICE, client_id: "c" }, 400, "invalid_request"],
    ["missing refresh_token", { grant_type: "refresh_token", service: SERVICE, client_id: "c" }, 400, "invalid_request"],
    ["malformed scope", { grant_type: "password", username: "u", password: "p", service: SERVICE, client_id: "c", scope: "repository:a" }, 400, "invalid_scope"],
  ])("%s → %i %s (RFC 6749 §5.2)", async (_, form, status, error) => {
    await expectOAuthError(await postToken(form), status, error);
  });

  test("GET /token keeps the Docker envelope for the same mistakes", async () => {
    const res = await call({ path: `/token?service=docker.io` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("INVALID_REQUEST");
  });

  test("a throttled password grant → 429 temporarily_unavailable with Retry-After", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const ip = { "CF-Connecting-IP": "203.0.113.61" };
    const wrong = () => postToken({ grant_type: "password", username: robot.name, password: "nope", service: SERVICE, client_id: "c" }, ip);
    for (let i = 0; i < 5; i++) await expectOAuthError(await wrong(), 400, "invalid_grant");
    const blocked = await wrong();
    await expectOAuthError(blocked, 429, "temporarily_unavailable");
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("not a form → 415; an oversize body → 413", async () => {
    const json = await postToken({}, { "Content-Type": "application/json" });
    await expectOAuthError(json, 415, "invalid_request");
    const big = await call({
      method: "POST",
      path: "/token",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `scope=${"a".repeat(70 * 1024)}`,
    });
    await expectOAuthError(big, 413, "invalid_request");
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

  test("a refresh token presented as another subject → 400 invalid_grant (form username or Basic)", async () => {
    const { refresh } = await offlineRobot();
    const other = await createRobot([{ repository: "*", actions: ["*"] }]);
    const asOther = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "c", username: other.name });
    await expectOAuthError(asOther, 400, "invalid_grant");
    const viaBasic = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "c" }, { Authorization: basic(other.name, other.secret) });
    await expectOAuthError(viaBasic, 400, "invalid_grant");
  });

  test("a malformed Authorization → 401 invalid_client with a Basic challenge", async () => {
    const { refresh } = await offlineRobot();
    const res = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "c" }, { Authorization: "Basic %%%" });
    await expectOAuthError(res, 401, "invalid_client");
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="/);
  });

  test("a refresh token presented for another service → 400 invalid_grant", async () => {
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
    await expectOAuthError(res, 400, "invalid_grant");
  });

  test("unknown, tampered or oversize refresh tokens → 400 invalid_grant", async () => {
    const { refresh } = await offlineRobot();
    for (const t of ["nope", refresh.slice(0, -1) + (refresh.endsWith("A") ? "B" : "A"), "x".repeat(5000)]) {
      const res = await postToken({ grant_type: "refresh_token", refresh_token: t, service: SERVICE, client_id: "c" });
      await expectOAuthError(res, 400, "invalid_grant");
    }
  });

  test("revoking the robot revokes its refresh tokens", async () => {
    const { robot, refresh } = await offlineRobot();
    expect((await admin("DELETE", `/admin/robots/${encodeURIComponent(robot.name)}`)).status).toBe(204);
    const res = await postToken({ grant_type: "refresh_token", refresh_token: refresh, service: SERVICE, client_id: "c" });
    await expectOAuthError(res, 400, "invalid_grant");
  });
});
