import { expect, test } from "vitest";
import { call, errorCode } from "./helpers";

/**
 * No input produces a 5xx: generated garbage in every position of every route (names, references, digests,
 * query parameters, Content-Range, Range, Content-Type, bodies), always answered with a 4xx JSON envelope.
 */

const METHODS = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"];
const PIECES = [
  "", "a", "A", "..", "%2e%2e", "%00", "sha256:", `sha256:${"f".repeat(64)}`, `sha512:${"0".repeat(64)}`,
  "md5:abc", ":", "::::", "a".repeat(300), "_catalog", "uploads", "blobs", "manifests", "tags", "list",
  "referrers", "%ff%fe", "latest", "-", "a-", "\u00e9", `sha256:${"G".repeat(64)}`, "x:y:z", "00000000-0000-0000-0000-000000000000",
];
const QUERIES = ["", "?n=-1", "?n=abc", "?n=99999999999999999999", "?last=%ff", "?digest=", "?digest=sha256:zz", "?mount=&from=", `?mount=sha256:${"1".repeat(64)}&from=BAD`, "?artifactType=%00"];
const HEADERS: Record<string, string>[] = [
  {},
  { "Content-Range": "bytes=garbage" },
  { "Content-Range": "5-1" },
  { Range: "bytes=999999999999-" },
  { Range: "bytes=-0" },
  { Range: "items=1-2" },
  { "Content-Type": "application/vnd.oci.image.index.v1+json; charset=\"x\"; q" },
  { "Content-Length": "abc" },
];

function* cases(): Generator<[string, string, Record<string, string>, string | null]> {
  let i = 0;
  for (const method of METHODS) {
    for (const shape of [
      (a: string, b: string) => `/v2/${a}/manifests/${b}`,
      (a: string, b: string) => `/v2/${a}/blobs/${b}`,
      (a: string, b: string) => `/v2/${a}/blobs/uploads/${b}`,
      (a: string) => `/v2/${a}/tags/list`,
      (a: string, b: string) => `/v2/${a}/referrers/${b}`,
      (a: string, b: string) => `/v2/${a}/${b}`,
      (a: string) => `/${a}`,
    ]) {
      for (let k = 0; k < 6; k++) {
        const a = PIECES[(i * 7 + k) % PIECES.length]!;
        const b = PIECES[(i * 13 + k * 3) % PIECES.length]!;
        const q = QUERIES[(i + k) % QUERIES.length]!;
        const h = HEADERS[(i * 3 + k) % HEADERS.length]!;
        const body = method === "GET" || method === "HEAD" ? null : ["", "{}", "[]", "{\"schemaVersion\":2}", "\u0000\u0001"][k % 5]!;
        i++;
        yield [method, encodeURI(shape(a, b)).replace(/%25/g, "%") + q, h, body];
      }
    }
  }
}

test("no garbage request gets a 5xx", async () => {
  const failures: string[] = [];
  let count = 0;
  for (const [method, path, headers, body] of cases()) {
    count++;
    let res: Response;
    try {
      res = await call({ method, path, headers, body });
    } catch (e) {
      failures.push(`${method} ${path}: threw ${String(e)}`);
      continue;
    }
    const text = await res.text();
    if (res.status >= 500) failures.push(`${method} ${path} ${JSON.stringify(headers)} → ${res.status} ${text}`);
    else if (res.status >= 400 && method !== "HEAD" && !text.includes('"errors"')) {
      failures.push(`${method} ${path} → ${res.status} without an error envelope: ${text}`);
    }
  }
  expect(count).toBeGreaterThan(250);
  expect(failures).toEqual([]);
});

/** References no tag can be (the tag grammar is `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`) and that hold no `:`. */
const IMPOSSIBLE_TAGS = [
  ".INVALID_MANIFEST_NAME", "-", "-v1", "a".repeat(129), "a".repeat(300), "v1!", "a+b", "a%20b", "%00", "%ff%fe",
  "\u00e9t\u00e9", "~", "a*", "a%2Fb",
];

test("a tag that cannot exist is not there for reads (404) and malformed for writes (400)", async () => {
  const failures: string[] = [];
  for (const tag of IMPOSSIBLE_TAGS) {
    const path = `/v2/garbage/tags/manifests/${encodeURI(tag).replace(/%25/g, "%")}`;
    for (const [method, status, code] of [
      ["GET", 404, "MANIFEST_UNKNOWN"],
      ["HEAD", 404, undefined],
      ["PUT", 400, "MANIFEST_INVALID"],
      ["DELETE", 400, "MANIFEST_INVALID"],
    ] as const) {
      const res = await call({
        method,
        path,
        headers: method === "PUT" ? { "Content-Type": "application/vnd.oci.image.manifest.v1+json" } : {},
        body: method === "PUT" ? "{}" : null,
      });
      const got = res.status === status && (code === undefined || (await errorCode(res)) === code);
      if (!got) failures.push(`${method} ${path} → ${res.status}`);
    }
  }
  expect(failures).toEqual([]);
});
