import { READ_ROUTES, ROUTES, requestedDigest, routeMatcher } from "@registry/api";
import { describe, expect, test } from "vitest";

/** The route table's flags are what the pull limiter and the edge cache go by (no path is parsed twice). */
describe("route flags", () => {
  const match = routeMatcher();
  const digest = `sha256:${"a".repeat(64)}`;
  const at = (method: string, path: string) => match(new Request(`http://r.test${path}`, { method }));

  test("only a manifest GET or HEAD counts as a pull", () => {
    const counting = ROUTES.filter((r) => r.countsAsPull).map((r) => `${r.method} ${r.path}`);
    expect(counting).toEqual(["GET /v2/:name+/manifests/:reference", "HEAD /v2/:name+/manifests/:reference"]);
  });

  test.each([
    ["GET", `/v2/a/b/manifests/${digest}`, digest],
    ["GET", `/v2/a/b/blobs/${digest}`, digest],
    ["GET", "/v2/a/b/manifests/latest", undefined],
    ["HEAD", `/v2/a/b/manifests/${digest}`, undefined],
    ["HEAD", `/v2/a/b/blobs/${digest}`, undefined],
    ["GET", `/v2/a/b/referrers/${digest}`, undefined],
    ["GET", "/v2/a/b/blobs/sha256:short", undefined],
  ])("%s %s → cacheable digest %s", async (method, path, expected) => {
    const matched = await at(method, path);
    expect(matched).toBeDefined();
    expect(requestedDigest(matched!)).toBe(expected);
  });

  test("the matcher gives the parsed params, and nothing for a path of no route", async () => {
    const matched = await at("GET", `/v2/library/app/blobs/${digest}`);
    expect(matched!.params).toMatchObject({ name: "library/app", digest });
    expect(matched!.route.method).toBe("GET");
    expect(await at("GET", "/v2/a/b/nothing/here")).toBeUndefined();
    expect(await routeMatcher(READ_ROUTES)(new Request(`http://r.test/v2/a/manifests/x`, { method: "PUT" }))).toBeUndefined();
  });
});
