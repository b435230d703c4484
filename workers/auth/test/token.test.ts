import { describe, expect, test } from "vitest";
import { ISSUER, SERVICE, address, basic, call, claimsOf, createRobot, getToken } from "./helpers";

interface TokenBody {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
}

describe("GET /token, anonymous", () => {
  test("public pull is granted, push and private repositories are not (empty access, not an error)", async () => {
    const res = await getToken(["repository:public/app:pull,push", "repository:private/app:pull"], undefined, { offline_token: "true" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as TokenBody;
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBe(300);
    expect(body.refresh_token).toBeUndefined(); // no refresh token without credentials
    const claims = claimsOf(body.token);
    expect(claims).toMatchObject({ iss: ISSUER, aud: SERVICE, sub: "", access: [{ type: "repository", name: "public/app", actions: ["pull"] }] });
    expect(claims.exp - claims.iat).toBe(300);
    expect(body.issued_at).toBe(new Date(claims.iat * 1000).toISOString().replace(".000Z", "Z"));
  });

  test("only private scopes → a token with access []", async () => {
    const res = await getToken(["repository:private/app:pull"]);
    expect(res.status).toBe(200);
    expect(claimsOf(((await res.json()) as TokenBody).token).access).toEqual([]);
  });

  test("no scope at all is fine (e.g. docker login)", async () => {
    const res = await getToken([]);
    expect(res.status).toBe(200);
    expect(claimsOf(((await res.json()) as TokenBody).token).access).toEqual([]);
  });

  test("'public/*' does not match 'public' itself nor 'publicity/x'", async () => {
    const res = await getToken(["repository:public:pull", "repository:publicity/x:pull", "repository:public/a/b:pull"]);
    expect(claimsOf(((await res.json()) as TokenBody).token).access).toEqual([{ type: "repository", name: "public/a/b", actions: ["pull"] }]);
  });

  test("the catalog is never granted anonymously", async () => {
    const res = await getToken(["registry:catalog:*"]);
    expect(claimsOf(((await res.json()) as TokenBody).token).access).toEqual([]);
  });
});

describe("GET /token with a robot's Basic credentials", () => {
  test("the token's access is the intersection of what was asked and what the robot may do", async () => {
    const robot = await createRobot([
      { repository: "ci/*", actions: ["pull", "push"] },
      { repository: "shared/lib", actions: ["pull"] },
    ]);
    const res = await getToken(
      [
        "repository:ci/app:pull,push,delete",
        "repository:shared/lib:pull,push",
        "repository:other/x:pull",
        "repository:public/base:pull",
        "registry:catalog:*",
        "repository:ci/deep/er:*",
      ],
      robot,
      { client_id: "docker", account: robot.name },
    );
    expect(res.status).toBe(200);
    const claims = claimsOf(((await res.json()) as TokenBody).token);
    expect(claims.sub).toBe(robot.name);
    expect(claims.access).toEqual([
      { type: "repository", name: "ci/app", actions: ["pull", "push"] },
      { type: "repository", name: "shared/lib", actions: ["pull"] },
      { type: "repository", name: "public/base", actions: ["pull"] },
      { type: "repository", name: "ci/deep/er", actions: ["pull", "push"] },
    ]);
  });

  test("repeated scopes for one repository merge; a repository(plugin) scope is granted as repository", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["*"] }]);
    const res = await getToken(["repository:ci/a:pull", "repository:ci/a:delete", "repository(plugin):ci/p:pull"], robot);
    expect(claimsOf(((await res.json()) as TokenBody).token).access).toEqual([
      { type: "repository", name: "ci/a", actions: ["pull", "delete"] },
      { type: "repository", name: "ci/p", actions: ["pull"] },
    ]);
  });

  test("registry:catalog:* only for an account with the catalog right", async () => {
    const plain = await createRobot([{ repository: "*", actions: ["*"] }]);
    const cataloguer = await createRobot([{ repository: "*", actions: ["*"] }], { catalog: true });
    const a = await getToken(["registry:catalog:*"], plain);
    const b = await getToken(["registry:catalog:*", "registry:other:*"], cataloguer);
    expect(claimsOf(((await a.json()) as TokenBody).token).access).toEqual([]);
    expect(claimsOf(((await b.json()) as TokenBody).token).access).toEqual([{ type: "registry", name: "catalog", actions: ["*"] }]);
  });

  test("a wrong secret or an unknown account → 401 with a Basic challenge and the UNAUTHORIZED envelope", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    for (const creds of [{ ...robot, secret: `${robot.secret}x` }, { ...robot, secret: "" }, { name: "robot$nobody", secret: robot.secret }]) {
      const res = await getToken(["repository:ci/app:pull"], creds);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="[^"]+"/);
      const body = (await res.json()) as { errors: { code: string; message: string }[] };
      expect(body.errors[0]).toMatchObject({ code: "UNAUTHORIZED" });
    }
  });

  test("offline_token=true with credentials returns a refresh token", async () => {
    const robot = await createRobot([{ repository: "ci/*", actions: ["pull"] }]);
    const body = (await (await getToken([], robot, { offline_token: "true", client_id: "test" })).json()) as TokenBody;
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("GET /token refuses malformed requests with 4xx, never 5xx", () => {
  test("service missing or not ours → 400", async () => {
    for (const q of ["", "?service=", "?service=docker.io", "?service=edge-registry%20", `?scope=repository:a/b:pull`]) {
      const res = await call({ path: `/token${q}` });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("INVALID_REQUEST");
    }
  });

  test.each([
    "repository",
    "repository:a/b",
    "repository::pull",
    "repository:Upper:pull",
    "repository:a/b:PULL",
    "repository:a//b:pull",
    ":a/b:pull",
    "repo sitory:a/b:pull",
    "repository:a/b:pull;rm",
    `repository:${"a".repeat(300)}:pull`,
  ])("malformed scope %j → 400 SCOPE_INVALID", async (scope) => {
    const res = await getToken([scope]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("SCOPE_INVALID");
  });

  test("more than 64 scopes → 400", async () => {
    const res = await getToken(Array.from({ length: 65 }, (_, i) => `repository:r/${i}:pull`));
    expect(res.status).toBe(400);
  });

  test("a bad client_id → 400", async () => {
    expect((await getToken([], undefined, { client_id: "x".repeat(300) })).status).toBe(400);
    expect((await getToken([], undefined, { client_id: "caf\u00e9" })).status).toBe(400);
  });

  const garbage: [string, string][] = [
    ["empty Basic", "Basic"],
    ["Basic, not base64", "Basic !!!!"],
    ["Basic, no colon", `Basic ${btoa("justauser")}`],
    ["Basic, empty username", `Basic ${btoa(":secret")}`],
    ["Basic, bad padding", "Basic YWJj=x"],
    ["Basic, invalid UTF-8", `Basic ${btoa("\xff\xfe:\xff")}`],
    ["Bearer", "Bearer abc.def.ghi"],
    ["unknown scheme", "Digest username=x"],
    ["junk", "\u00ff\u00fe garbage"],
    ["oversize Basic", `Basic ${"QUFB".repeat(3000)}`],
    ["oversize anything", "x".repeat(20_000)],
    ["huge username", basic("u".repeat(5000), "p")],
    ["huge password", basic("robot$x", "p".repeat(4000))],
  ];
  test.each(garbage)("%s Authorization → 401, not 500", async (_, header) => {
    const res = await call({ path: `/token?service=${SERVICE}&scope=repository:public/x:pull`, headers: { Authorization: header, "CF-Connecting-IP": address() } });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("UNAUTHORIZED");
  });
});
