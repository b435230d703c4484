import { beforeAll, expect } from "vitest";
import { call, OCI_INDEX, OCI_MANIFEST, pushImage } from "./helpers";
import { LAYER, pushFixture, runTable, ZERO, type Fixture, type Row } from "./table";

/**
 * One table of HTTP cases over the /v2 API (OCI distribution spec v1.1) — pulls, listings, referrers, uploads,
 * deletes; manifest pushes have theirs in manifest-push.test.ts — run in workerd against the real local R2. A
 * fixture repository is pushed first; each row is one request and what must come back.
 */

const REPO = "table/app";
let fx: Fixture & { referrer: string };

beforeAll(async () => {
  const fixture = await pushFixture(REPO);
  await call({ method: "PUT", path: `/v2/${REPO}/manifests/v2`, headers: { "Content-Type": OCI_MANIFEST }, body: fixture.manifestBody });
  const sig = await pushImage(REPO, "sig", ["signature"], {
    artifactType: "application/vnd.example.sig",
    subject: { mediaType: OCI_MANIFEST, digest: fixture.manifest, size: fixture.manifestBody.length },
    annotations: { "org.example": "yes" },
  });
  fx = { ...fixture, referrer: sig.digest };
});

const rows: Row[] = [
  { name: "api version", path: () => "/v2/", status: 200, expectHeaders: () => ({ "docker-distribution-api-version": "registry/2.0" }) },
  { name: "api version without slash", path: () => "/v2", status: 200 },
  {
    name: "manifest by tag: exact bytes, type, digest, length",
    path: () => `/v2/${REPO}/manifests/v1`,
    status: 200,
    expectHeaders: () => ({
      "content-type": OCI_MANIFEST,
      "docker-content-digest": fx.manifest,
      "content-length": String(fx.manifestBody.length),
    }),
    check: async (res) => expect(await res.text()).toBe(fx.manifestBody),
  },
  {
    name: "manifest HEAD by digest",
    method: "HEAD",
    path: () => `/v2/${REPO}/manifests/${fx.manifest}`,
    status: 200,
    expectHeaders: () => ({ "docker-content-digest": fx.manifest, "content-length": String(fx.manifestBody.length) }),
  },
  { name: "manifest unknown tag", path: () => `/v2/${REPO}/manifests/nope`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest unknown digest", path: () => `/v2/${REPO}/manifests/${ZERO}`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest in another repo", path: () => `/v2/table/other/manifests/v1`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest by a tag starting with a dot (conformance's .INVALID_MANIFEST_NAME)", path: () => `/v2/${REPO}/manifests/.INVALID_MANIFEST_NAME`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest HEAD by a tag starting with a dash", method: "HEAD", path: () => `/v2/${REPO}/manifests/-v1`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest by a tag of 129 characters", path: () => `/v2/${REPO}/manifests/${"t".repeat(129)}`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest by a tag of 128 characters (valid, unknown)", path: () => `/v2/${REPO}/manifests/${"t".repeat(128)}`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest HEAD by a tag with bad characters", method: "HEAD", path: () => `/v2/${REPO}/manifests/v1!`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "manifest by a tag with an encoded space", path: () => `/v2/${REPO}/manifests/v%201`, status: 404, code: "MANIFEST_UNKNOWN" },
  {
    name: "manifest PUT by a malformed tag stays 400",
    method: "PUT",
    path: () => `/v2/${REPO}/manifests/.hidden`,
    headers: { "Content-Type": OCI_MANIFEST },
    body: () => fx.manifestBody,
    status: 400,
    code: "MANIFEST_INVALID",
  },
  { name: "manifest DELETE by a malformed tag stays 400", method: "DELETE", path: () => `/v2/${REPO}/manifests/-v1`, status: 400, code: "MANIFEST_INVALID" },
  { name: "manifest malformed digest", path: () => `/v2/${REPO}/manifests/sha256:xyz`, status: 400, code: "DIGEST_INVALID" },
  { name: "manifest unsupported algorithm", path: () => `/v2/${REPO}/manifests/md5:d41d8cd98f00b204e9800998ecf8427e`, status: 400, code: "DIGEST_INVALID" },
  { name: "bad repository name", path: () => `/v2/Bad_Name/manifests/v1`, status: 400, code: "NAME_INVALID" },
  { name: "repository name with ..", path: () => `/v2/a..b/tags/list`, status: 400, code: "NAME_INVALID" },
  {
    name: "index by tag",
    path: () => `/v2/${REPO}/manifests/multi`,
    status: 200,
    expectHeaders: () => ({ "content-type": OCI_INDEX, "docker-content-digest": fx.index }),
  },
  {
    name: "blob GET: octet-stream, exact length, digest",
    path: () => `/v2/${REPO}/blobs/${fx.layer}`,
    status: 200,
    expectHeaders: () => ({
      "content-type": "application/octet-stream",
      "content-length": String(LAYER.length),
      "docker-content-digest": fx.layer,
    }),
    check: async (res) => expect(await res.text()).toBe(LAYER),
  },
  {
    name: "blob GET with Accept-Encoding gzip is not re-encoded",
    path: () => `/v2/${REPO}/blobs/${fx.layer}`,
    headers: { "Accept-Encoding": "gzip" },
    status: 200,
    expectHeaders: () => ({ "content-length": String(LAYER.length) }),
    check: async (res) => {
      expect(res.headers.get("content-encoding")).toBeNull();
      expect(await res.text()).toBe(LAYER);
    },
  },
  {
    name: "blob HEAD",
    method: "HEAD",
    path: () => `/v2/${REPO}/blobs/${fx.layer}`,
    status: 200,
    expectHeaders: () => ({ "content-length": String(LAYER.length), "docker-content-digest": fx.layer }),
  },
  {
    name: "blob range",
    path: () => `/v2/${REPO}/blobs/${fx.layer}`,
    headers: { Range: "bytes=6-10" },
    status: 206,
    expectHeaders: () => ({ "content-range": `bytes 6-10/${LAYER.length}`, "content-length": "5" }),
    check: async (res) => expect(await res.text()).toBe(LAYER.slice(6, 11)),
  },
  {
    name: "blob suffix range",
    path: () => `/v2/${REPO}/blobs/${fx.layer}`,
    headers: { Range: "bytes=-4" },
    status: 206,
    check: async (res) => expect(await res.text()).toBe(LAYER.slice(-4)),
  },
  {
    name: "blob open-ended range",
    path: () => `/v2/${REPO}/blobs/${fx.layer}`,
    headers: { Range: "bytes=20-" },
    status: 206,
    check: async (res) => expect(await res.text()).toBe(LAYER.slice(20)),
  },
  {
    name: "blob unsatisfiable range",
    path: () => `/v2/${REPO}/blobs/${fx.layer}`,
    headers: { Range: "bytes=1000-2000" },
    status: 416,
    expectHeaders: () => ({ "content-range": `bytes */${LAYER.length}` }),
  },
  { name: "blob unknown", path: () => `/v2/${REPO}/blobs/${ZERO}`, status: 404, code: "BLOB_UNKNOWN" },
  { name: "blob of another repository", path: () => `/v2/table/other/blobs/${fx.layer}`, status: 404, code: "BLOB_UNKNOWN" },
  { name: "blob malformed digest", path: () => `/v2/${REPO}/blobs/sha256:1234`, status: 400, code: "DIGEST_INVALID" },
  { name: "blob digest without algorithm", path: () => `/v2/${REPO}/blobs/nothex`, status: 400, code: "DIGEST_INVALID" },
  {
    name: "tags list in lexical order",
    path: () => `/v2/${REPO}/tags/list`,
    status: 200,
    check: async (res) => expect(await res.json()).toEqual({ name: REPO, tags: ["multi", "sig", "v1", "v2"] }),
  },
  {
    name: "tags list n=2 has Link with host and angle brackets",
    path: () => `/v2/${REPO}/tags/list?n=2`,
    status: 200,
    expectHeaders: () => ({ link: `<http://registry.test/v2/${REPO}/tags/list?n=2&last=sig>; rel="next"` }),
    check: async (res) => expect(await res.json()).toEqual({ name: REPO, tags: ["multi", "sig"] }),
  },
  {
    name: "tags list last page has no Link",
    path: () => `/v2/${REPO}/tags/list?n=2&last=sig`,
    status: 200,
    check: async (res) => {
      expect(res.headers.get("link")).toBeNull();
      expect(await res.json()).toEqual({ name: REPO, tags: ["v1", "v2"] });
    },
  },
  {
    name: "tags list n=0 is empty",
    path: () => `/v2/${REPO}/tags/list?n=0`,
    status: 200,
    check: async (res) => expect(((await res.json()) as { tags: string[] }).tags).toEqual([]),
  },
  { name: "tags list of unknown repository", path: () => `/v2/table/nothing/tags/list`, status: 404, code: "NAME_UNKNOWN" },
  {
    name: "catalog contains the repository",
    path: () => `/v2/_catalog`,
    status: 200,
    check: async (res) => expect(((await res.json()) as { repositories: string[] }).repositories).toContain(REPO),
  },
  {
    name: "referrers of the image",
    path: () => `/v2/${REPO}/referrers/${fx.manifest}`,
    status: 200,
    expectHeaders: () => ({ "content-type": OCI_INDEX }),
    check: async (res) => {
      const index = (await res.json()) as { manifests: { digest: string; artifactType: string; annotations: unknown }[] };
      expect(index.manifests).toHaveLength(1);
      expect(index.manifests[0]).toMatchObject({
        digest: fx.referrer,
        artifactType: "application/vnd.example.sig",
        annotations: { "org.example": "yes" },
      });
    },
  },
  {
    name: "referrers filtered by artifactType",
    path: () => `/v2/${REPO}/referrers/${fx.manifest}?artifactType=application/other`,
    status: 200,
    expectHeaders: () => ({ "oci-filters-applied": "artifactType" }),
    check: async (res) => expect(((await res.json()) as { manifests: unknown[] }).manifests).toEqual([]),
  },
  {
    name: "referrers of an unknown digest: empty index",
    path: () => `/v2/${REPO}/referrers/${ZERO}`,
    status: 200,
    check: async (res) => expect(await res.json()).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }),
  },
  { name: "referrers malformed digest", path: () => `/v2/${REPO}/referrers/sha256:zz`, status: 400, code: "DIGEST_INVALID" },
  {
    name: "upload finish with malformed digest",
    method: "PUT",
    path: () => `/v2/${REPO}/blobs/uploads/00000000-0000-0000-0000-000000000000?digest=sha256:nope`,
    status: 400,
    code: "DIGEST_INVALID",
  },
  {
    name: "upload unknown session",
    path: () => `/v2/${REPO}/blobs/uploads/00000000-0000-0000-0000-000000000000`,
    status: 404,
    code: "BLOB_UPLOAD_UNKNOWN",
  },
  {
    name: "upload session id that is not a uuid",
    method: "PATCH",
    path: () => `/v2/${REPO}/blobs/uploads/..%2F..%2Fetc`,
    body: () => "x",
    status: 404,
    code: "BLOB_UPLOAD_UNKNOWN",
  },
  { name: "mount with malformed digest", method: "POST", path: () => `/v2/${REPO}/blobs/uploads/?mount=sha256:1&from=a`, status: 400, code: "DIGEST_INVALID" },
  { name: "unknown route", path: () => `/v2/${REPO}/nothing`, status: 404, code: "UNSUPPORTED" },
  { name: "outside /v2", path: () => `/favicon.ico`, status: 404, code: "UNSUPPORTED" },
  { name: "delete unknown tag", method: "DELETE", path: () => `/v2/${REPO}/manifests/nope`, status: 404, code: "MANIFEST_UNKNOWN" },
  { name: "delete unknown blob", method: "DELETE", path: () => `/v2/${REPO}/blobs/${ZERO}`, status: 404, code: "BLOB_UNKNOWN" },
];

runTable("the /v2 API, one row per request", rows);
