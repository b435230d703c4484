import { beforeAll, expect } from "vitest";
import { call, OCI_INDEX, OCI_MANIFEST, sha256 } from "./helpers";
import { LAYER, pushFixture, runTable, ZERO, type Fixture, type Row } from "./table";

/**
 * The HTTP cases of manifest pushes (spec §"Pushing manifests"): what is refused — unknown or wrongly sized
 * references, a Content-Type that is not a manifest media type or disagrees with the body — leaves nothing behind;
 * what real clients send (the four manifest types, with parameters) is accepted.
 */

const REPO = "table/push";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
let fx: Fixture & {
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
  const fixture = await pushFixture(REPO);
  const wrongLayerSize = edit(fixture.manifestBody, (m) => (m.layers[0]!.size += 1));
  const wrongConfigSize = edit(fixture.manifestBody, (m) => (m.config.size -= 1));
  const wrongChildSize = edit(fixture.indexBody, (m) => (m.manifests[0]!.size += 10));
  const docker = edit(fixture.manifestBody, (m) => {
    m.mediaType = DOCKER_MANIFEST;
    m.config.mediaType = "application/vnd.docker.container.image.v1+json";
    m.layers[0]!.mediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip";
  });
  fx = {
    ...fixture,
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

const rows: Row[] = [
  putRow(
    "manifest PUT with unknown blob",
    OCI_MANIFEST,
    () => JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: ZERO, size: 2 }, layers: [] }),
    400,
    "MANIFEST_BLOB_UNKNOWN",
    "bad",
  ),
  putRow("manifest PUT of invalid JSON", OCI_MANIFEST, () => "{not json", 400, "MANIFEST_INVALID", "bad"),
  putRow("manifest PUT whose mediaType contradicts Content-Type", OCI_INDEX, () => fx.manifestBody, 400, "MANIFEST_INVALID", "bad"),
  putRow("manifest PUT by a digest that does not match the body", OCI_MANIFEST, () => fx.manifestBody, 400, "DIGEST_INVALID", ZERO),
  putRow(
    "index PUT naming an unknown child manifest",
    OCI_INDEX,
    () =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: ZERO, size: 10, platform: { os: "linux", architecture: "arm64" } }],
      }),
    400,
    "MANIFEST_BLOB_UNKNOWN",
    "badindex",
  ),
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
];

runTable("manifest pushes, one row per request", rows);
