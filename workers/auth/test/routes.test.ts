import { describe, expect, test } from "vitest";
import { SERVICE, call } from "./helpers";

describe("routing and garbage", () => {
  test("unknown paths → 404 JSON; wrong methods → 405 with Allow", async () => {
    for (const path of ["/", "/v2/", "/token/x", "/admin", "/admin/robots/a/b", "/.well-known/openid-configuration"]) {
      const res = await call({ path });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("NOT_FOUND");
    }
    const put = await call({ method: "PUT", path: "/token" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST");
    expect((await call({ method: "DELETE", path: "/jwks" })).status).toBe(405);
  });

  test("generated garbage requests never get a 5xx", async () => {
    const paths = [
      `/token?service=${SERVICE}&scope=%00`,
      `/token?service=${SERVICE}&scope=${"repository:a/b:pull ".repeat(100)}`,
      `/token?service=${SERVICE}&scope=repository:a/b:pull&scope=`,
      `/token?service=${SERVICE}&offline_token=true&client_id=%0a`,
      `/token?service=%ff`,
      `/token?${"a=b&".repeat(2000)}`,
      "/admin/robots/%ZZ",
      "/jwks?x=%",
    ];
    for (const path of paths) {
      const res = await call({ path });
      expect(res.status, path).toBeLessThan(500);
    }
    const bodies = ["", "grant_type", "=&=&", "%ZZ=%ZZ", "grant_type=password&username=&password=", "\u0000\u0001", `a=${"%".repeat(1000)}`];
    for (const body of bodies) {
      const res = await call({ method: "POST", path: "/token", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body });
      expect(res.status, body).toBeLessThan(500);
    }
    const bad = await call({ method: "POST", path: "/token", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new Uint8Array([0xff, 0xfe, 0x3d]) });
    expect(bad.status).toBe(400);
  });
});
