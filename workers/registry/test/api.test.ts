import { beforeAll, describe, expect, test } from "vitest";
import { call, errorCode, OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, sha256 } from "./helpers";

/**
 * One table of HTTP cases over the whole /v2 API (OCI distribution spec v1.1), run in workerd against the
 * real local R2. A fixture repository is pushed first; each row is one request and what must come back.
 */

const REPO = "table/app";
const LAYER = "hello layer bytes 0123456789";
const ZERO = "sha256:" + "0".repeat(64);
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
let fx: {
  manifest: string;
  manifestBody: string;
  layer: string;
  config: string;
  index: string;
  referrer: string;
  /** Bodies refused by the size checks (pushed under the tag "rejected"), and their digests. */
  wrongLayerSize: string;
  wrongConfigSize: string;
  wrongChildSize: string;
  rejected: string[];
  docker: string;
  dockerDigest: string;
};

/** The fields of a manifest or index the rows change. */
interface Editable {
  mediaType?: string;
  config: { mediaType: string; size: number };
  layers: { mediaType: string; size: number }[];
  manifests: { size: number }[];
}

/** `body` (a JSON manifest or index) with some fields changed. */
function edit(body: string, change: (m: Editable) => void): string {
  const m = JSON.parse(body) as Editable;
  change(m);
  return JSON.stringify(m);
}

beforeAll(async () => {
  const image = await pushImage(REPO, "v1", [LAYER]);
  await call({ method: "PUT", path: `/v2/${REPO}/manifests/v2`, headers: { "Content-Type": OCI_MANIFEST }, body: image.body });
  const parsed = JSON.parse(image.body) as { config: { digest: string }; layers: { digest: string }[] };
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: image.digest, size: image.body.length, platform: { os: "linux", architecture: "amd64" } },
    ],
  });
  const ir = await call({ method: "PUT", path: `/v2/${REPO}/manifests/multi`, headers: { "Content-Type": OCI_INDEX }, body: index });
  expect(ir.status).toBe(201);
  const sig = await pushImage(REPO, "sig", ["signature"], {
    artifactType: "application/vnd.example.sig",
    subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: image.body.length },
    annotations: { "org.example": "yes" },
  });
  const wrongLayerSize = edit(image.body, (m) => (m.layers[0]!.size += 1));
  const wrongConfigSize = edit(image.body, (m) => (m.config.size -= 1));
  const wrongChildSize = edit(index, (m) => (m.manifests[0]!.size += 10));
  const docker = edit(image.body, (m) => {
    m.mediaType = DOCKER_MANIFEST;
    m.config.mediaType = "application/vnd.docker.container.image.v1+json";
    m.layers[0]!.mediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip";
  });
  fx = {
    manifest: image.digest,
    manifestBody: image.body,
    layer: parsed.layers[0]!.digest,
    config: parsed.config.digest,
    index: await sha256(index),
    referrer: sig.digest,
    wrongLayerSize,
    wrongConfigSize,
    wrongChildSize,
    rejected: await Promise.all([wrongLayerSize, wrongConfigSize, wrongChildSize].map((b) => sha256(b))),
    docker,
    dockerDigest: await sha256(docker),
  };
});

/** A PUT of `body` under the tag "rejected" (or `tag`) with this Content-Type (none when null). */
function putRow(name: string, contentType: string | null, body: () => string, status: number, code?: string, tag = "rejected"): Row {
  return {
    name,
    method: "PUT",
    path: () => `/v2/${REPO}/manifests/${tag}`,
    headers: contentType === null ? {} : { "Content-Type": contentType },
    body,
    status,
    ...(code ? { code } : {}),
  };
}

/** Checks that the error detail names the digest and both sizes. */
function sizeDetail(digest: () => string, descriptorSize: () => number, storedSize: () => number) {
  return async (res: Response) => {
    const body = (await res.json()) as { errors: { detail: Record<string, unknown> }[] };
    expect(body.errors[0]!.detail).toMatchObject({ digest: digest(), descriptorSize: descriptorSize(), storedSize: storedSize() });
  };
}

const layerLength = () => new TextEncoder().encode(LAYER).byteLength;
const configSize = () => (JSON.parse(fx.manifestBody) as Editable).config.size;

interface Row {
  name: string;
  method?: string;
  path: () => string;
  headers?: Record<string, string>;
  body?: () => string | null;
  status: number;
  code?: string;
  expectHeaders?: () => Record<string, string | RegExp>;
  check?: (res: Response) => Promise<void>;
}

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
    name: "manifest PUT with unknown blob",
    method: "PUT",
    path: () => `/v2/${REPO}/manifests/bad`,
    headers: { "Content-Type": OCI_MANIFEST },
    body: () =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: ZERO, size: 2 },
        layers: [],
      }),
    status: 400,
    code: "MANIFEST_BLOB_UNKNOWN",
  },
  {
    name: "manifest PUT of invalid JSON",
    method: "PUT",
    path: () => `/v2/${REPO}/manifests/bad`,
    headers: { "Content-Type": OCI_MANIFEST },
    body: () => "{not json",
    status: 400,
    code: "MANIFEST_INVALID",
  },
  {
    name: "manifest PUT whose mediaType contradicts Content-Type",
    method: "PUT",
    path: () => `/v2/${REPO}/manifests/bad`,
    headers: { "Content-Type": OCI_INDEX },
    body: () => fx.manifestBody,
    status: 400,
    code: "MANIFEST_INVALID",
  },
  {
    name: "manifest PUT by a digest that does not match the body",
    method: "PUT",
    path: () => `/v2/${REPO}/manifests/${ZERO}`,
    headers: { "Content-Type": OCI_MANIFEST },
    body: () => fx.manifestBody,
    status: 400,
    code: "DIGEST_INVALID",
  },
  {
    name: "index PUT naming an unknown child manifest",
    method: "PUT",
    path: () => `/v2/${REPO}/manifests/badindex`,
    headers: { "Content-Type": OCI_INDEX },
    body: () =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: ZERO, size: 10, platform: { os: "linux", architecture: "arm64" } }],
      }),
    status: 400,
    code: "MANIFEST_BLOB_UNKNOWN",
  },
  { name: "bad tag fails nothing was tagged", path: () => `/v2/${REPO}/manifests/bad`, status: 404, code: "MANIFEST_UNKNOWN" },
  {
    ...putRow("manifest PUT whose layer size differs from the stored blob's", OCI_MANIFEST, () => fx.wrongLayerSize, 400, "MANIFEST_INVALID"),
    check: sizeDetail(() => fx.layer, () => layerLength() + 1, layerLength),
  },
  {
    ...putRow("manifest PUT whose config size differs from the stored blob's", OCI_MANIFEST, () => fx.wrongConfigSize, 400, "MANIFEST_INVALID"),
    check: sizeDetail(() => fx.config, () => configSize() - 1, configSize),
  },
  {
    ...putRow("index PUT whose child size differs from the stored manifest's", OCI_INDEX, () => fx.wrongChildSize, 400, "MANIFEST_INVALID"),
    check: sizeDetail(() => fx.manifest, () => fx.manifestBody.length + 10, () => fx.manifestBody.length),
  },
  putRow("manifest PUT as application/json (body has a mediaType)", "application/json", () => fx.manifestBody, 400, "MANIFEST_INVALID"),
  putRow("manifest PUT as text/plain", "text/plain", () => fx.manifestBody, 400, "MANIFEST_INVALID"),
  putRow("manifest PUT without Content-Type (body has a mediaType)", null, () => fx.manifestBody, 400, "MANIFEST_INVALID"),
  putRow(
    "manifest PUT without Content-Type, body without mediaType",
    null,
    () => edit(fx.manifestBody, (m) => delete m.mediaType),
    400,
    "MANIFEST_INVALID",
  ),
  putRow("manifest PUT as schema1", "application/vnd.docker.distribution.manifest.v1+prettyjws", () => fx.manifestBody, 400, "MANIFEST_INVALID"),
  putRow("manifest PUT as a Docker manifest whose body says OCI", DOCKER_MANIFEST, () => fx.manifestBody, 400, "MANIFEST_INVALID"),
  { name: "nothing refused was tagged", path: () => `/v2/${REPO}/manifests/rejected`, status: 404, code: "MANIFEST_UNKNOWN" },
  {
    name: "nothing refused is there by digest",
    method: "HEAD",
    path: () => `/v2/${REPO}/manifests/${fx.rejected[0]}`,
    status: 404,
    check: async () => {
      for (const digest of fx.rejected) expect((await call({ method: "HEAD", path: `/v2/${REPO}/manifests/${digest}` })).status).toBe(404);
    },
  },
  putRow("manifest PUT with Content-Type parameters", `${OCI_MANIFEST}; charset=utf-8`, () => fx.manifestBody, 201, undefined, "params"),
  putRow("manifest PUT without mediaType in the body, typed by Content-Type", OCI_MANIFEST, () => edit(fx.manifestBody, (m) => delete m.mediaType), 201, undefined, "untyped"),
  putRow("Docker schema2 manifest as Docker schema2", DOCKER_MANIFEST, () => fx.docker, 201, undefined, "docker"),
  putRow(
    "Docker manifest list as Docker manifest list",
    DOCKER_LIST,
    () =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_LIST,
        manifests: [{ mediaType: DOCKER_MANIFEST, digest: fx.dockerDigest, size: fx.docker.length, platform: { os: "linux", architecture: "amd64" } }],
      }),
    201,
    undefined,
    "dockerlist",
  ),
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

describe("the /v2 API, one row per request", () => {
  test.each(rows)("$name", async (row) => {
    const res = await call({
      method: row.method ?? "GET",
      path: row.path(),
      headers: row.headers ?? {},
      body: row.body?.() ?? null,
    });
    expect(res.status, await res.clone().text()).toBe(row.status);
    for (const [k, v] of Object.entries(row.expectHeaders?.() ?? {})) {
      if (v instanceof RegExp) expect(res.headers.get(k)).toMatch(v);
      else expect(res.headers.get(k), k).toBe(v);
    }
    if (row.code) {
      expect(res.headers.get("content-type")).toBe("application/json");
      if (row.method === "HEAD") expect(await res.clone().text()).toBe("");
      else expect(await errorCode(res.clone())).toBe(row.code);
    }
    if (row.check) await row.check(res);
  });
});

