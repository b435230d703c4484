import { describe, expect, test } from "vitest";
import {
  MANIFEST_MEDIA_TYPES,
  MAX_MANIFEST_BYTES,
  MediaTypes,
  artifactTypeOf,
  isManifestMediaType,
  parseManifest,
  referencedBlobs,
} from "../src/index";
import type { Manifest } from "../src/index";
import { expectOciError } from "./expect-error";

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

const ociImage = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociManifest,
  config: { mediaType: MediaTypes.ociConfig, digest: d("1"), size: 1470 },
  layers: [
    { mediaType: MediaTypes.ociLayerTarGzip, digest: d("2"), size: 3_370_706 },
    { mediaType: MediaTypes.ociLayerTarZstd, digest: d("3"), size: 12 },
  ],
  annotations: { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
};

// The seed's example index: five platforms.
const ociIndex = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociIndex,
  manifests: [
    { mediaType: MediaTypes.ociManifest, digest: d("a"), size: 500, platform: { architecture: "amd64", os: "linux" } },
    { mediaType: MediaTypes.ociManifest, digest: d("b"), size: 500, platform: { architecture: "arm", os: "linux", variant: "v7" } },
    { mediaType: MediaTypes.ociManifest, digest: d("c"), size: 500, platform: { architecture: "arm64", os: "linux", variant: "v8" } },
    { mediaType: MediaTypes.ociManifest, digest: d("d"), size: 500, platform: { architecture: "ppc64le", os: "linux" } },
    { mediaType: MediaTypes.ociManifest, digest: d("e"), size: 500, platform: { architecture: "s390x", os: "linux" } },
  ],
};

const dockerImage = {
  schemaVersion: 2,
  mediaType: MediaTypes.dockerManifest,
  config: { mediaType: MediaTypes.dockerConfig, digest: d("4"), size: 7023 },
  layers: [
    { mediaType: MediaTypes.dockerLayerTarGzip, digest: d("5"), size: 32654 },
    {
      mediaType: MediaTypes.dockerForeignLayer,
      digest: d("6"),
      size: 1_000_000,
      urls: ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:6666"],
    },
  ],
};

const dockerList = {
  schemaVersion: 2,
  mediaType: MediaTypes.dockerManifestList,
  manifests: [
    { mediaType: MediaTypes.dockerManifest, digest: d("7"), size: 7143, platform: { architecture: "ppc64le", os: "linux" } },
    {
      mediaType: MediaTypes.dockerManifest,
      digest: d("8"),
      size: 7682,
      platform: { architecture: "amd64", os: "windows", "os.version": "10.0.17763.1234", "os.features": ["win32k"] },
    },
  ],
};

// image-spec "Guidelines for Artifact Usage": artifactType + the empty config.
const artifact = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociManifest,
  artifactType: "application/vnd.example.sbom.v1",
  config: { mediaType: MediaTypes.ociEmpty, digest: EMPTY_DIGEST, size: 2, data: "e30=" },
  layers: [{ mediaType: "application/spdx+json", digest: d("9"), size: 1234 }],
  subject: { mediaType: MediaTypes.ociManifest, digest: d("a"), size: 500 },
  annotations: { "org.example.kind": "sbom" },
};

const signature = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociManifest,
  config: { mediaType: "application/vnd.dev.cosign.artifact.sig.v1+json", digest: d("b"), size: 233 },
  layers: [],
  subject: { mediaType: MediaTypes.ociIndex, digest: d("c"), size: 900 },
};

const indexWithSubject = { ...ociIndex, artifactType: "application/vnd.example.bundle", subject: { mediaType: MediaTypes.ociManifest, digest: d("f"), size: 10 } };

describe("parseManifest accepts", () => {
  test.each<[string, unknown, string | null, Partial<Manifest>, string | undefined]>([
    ["an OCI image", ociImage, MediaTypes.ociManifest, { kind: "image", mediaType: MediaTypes.ociManifest }, MediaTypes.ociConfig],
    ["an OCI index", ociIndex, MediaTypes.ociIndex, { kind: "index", mediaType: MediaTypes.ociIndex }, undefined],
    ["a Docker v2s2 image", dockerImage, MediaTypes.dockerManifest, { kind: "image", mediaType: MediaTypes.dockerManifest }, MediaTypes.dockerConfig],
    ["a Docker manifest list", dockerList, MediaTypes.dockerManifestList, { kind: "index", mediaType: MediaTypes.dockerManifestList }, undefined],
    ["an artifact with the empty config", artifact, MediaTypes.ociManifest, { kind: "image", artifactType: "application/vnd.example.sbom.v1" }, "application/vnd.example.sbom.v1"],
    ["a signature with subject and no layers", signature, MediaTypes.ociManifest, { kind: "image", layers: [] }, "application/vnd.dev.cosign.artifact.sig.v1+json"],
    ["an index with subject and artifactType", indexWithSubject, MediaTypes.ociIndex, { kind: "index" }, "application/vnd.example.bundle"],
    ["Content-Type with charset", ociImage, `${MediaTypes.ociManifest}; charset=utf-8`, { kind: "image" }, MediaTypes.ociConfig],
    ["Content-Type in other case", ociImage, MediaTypes.ociManifest.toUpperCase(), { kind: "image" }, MediaTypes.ociConfig],
    ["no Content-Type, body mediaType", ociImage, null, { kind: "image", mediaType: MediaTypes.ociManifest }, MediaTypes.ociConfig],
    ["generic Content-Type, body mediaType", ociIndex, "application/json", { kind: "index", mediaType: MediaTypes.ociIndex }, undefined],
    ["no mediaType anywhere, image shape", { ...ociImage, mediaType: undefined }, "", { kind: "image", mediaType: MediaTypes.ociManifest }, MediaTypes.ociConfig],
    ["no mediaType anywhere, index shape", { ...ociIndex, mediaType: undefined }, null, { kind: "index", mediaType: MediaTypes.ociIndex }, undefined],
    ["no body mediaType, Content-Type decides", { ...dockerImage, mediaType: undefined }, MediaTypes.dockerManifest, { kind: "image", mediaType: MediaTypes.dockerManifest }, MediaTypes.dockerConfig],
    ["UTF-8 BOM", `\uFEFF${JSON.stringify(ociImage)}`, MediaTypes.ociManifest, { kind: "image" }, MediaTypes.ociConfig],
  ])("%s", (_, body, contentType, expected, artifactType) => {
    const manifest = parseManifest(bytes(body), contentType);
    expect(manifest).toMatchObject(expected);
    expect(artifactTypeOf(manifest)).toBe(artifactType);
  });

  test("keeps every field of an artifact manifest", () => {
    expect(parseManifest(bytes(artifact), MediaTypes.ociManifest)).toEqual({ kind: "image", ...artifact, schemaVersion: undefined });
  });

  test("keeps platforms of index entries", () => {
    const m = parseManifest(bytes(dockerList), MediaTypes.dockerManifestList);
    expect(m.kind === "index" && m.manifests[1]!.platform).toEqual(dockerList.manifests[1]!.platform);
  });

  test("exactly MAX_MANIFEST_BYTES is accepted", () => {
    const base = JSON.stringify(ociImage);
    const padded = `${base.slice(0, -1)},"annotations":{"pad":"${"x".repeat(MAX_MANIFEST_BYTES - base.length - 40)}"}}`;
    const body = padded + " ".repeat(MAX_MANIFEST_BYTES - padded.length);
    expect(body.length).toBe(MAX_MANIFEST_BYTES);
    expect(parseManifest(bytes(body), MediaTypes.ociManifest).kind).toBe("image");
  });
});

const withConfig = (config: unknown): unknown => ({ ...ociImage, config });
const withLayer = (layer: unknown): unknown => ({ ...ociImage, layers: [layer] });

describe("parseManifest rejects", () => {
  test.each<[string, unknown, string | null]>([
    ["not JSON", "{not json", MediaTypes.ociManifest],
    ["a JSON array", [ociImage], MediaTypes.ociManifest],
    ["a JSON string", '"manifest"', MediaTypes.ociManifest],
    ["JSON null", "null", MediaTypes.ociManifest],
    ["schemaVersion 1", { ...ociImage, schemaVersion: 1 }, MediaTypes.ociManifest],
    ["schema1 Content-Type", { schemaVersion: 1, name: "a", tag: "b", fsLayers: [] }, MediaTypes.dockerManifestSchema1Signed],
    ["missing schemaVersion", { ...ociImage, schemaVersion: undefined }, MediaTypes.ociManifest],
    ["schemaVersion as string", { ...ociImage, schemaVersion: "2" }, MediaTypes.ociManifest],
    ["mediaType mismatching Content-Type", ociImage, MediaTypes.ociIndex],
    ["docker mediaType, OCI Content-Type", dockerImage, MediaTypes.ociManifest],
    ["unknown mediaType", { ...ociImage, mediaType: "application/vnd.oci.artifact.manifest.v1+json" }, null],
    ["mediaType not a string", { ...ociImage, mediaType: 2 }, null],
    ["no type and ambiguous shape", { schemaVersion: 2, config: ociImage.config, layers: [], manifests: [] }, "application/json"],
    ["no type and no shape", { schemaVersion: 2 }, null],
    ["Content-Type index but image body", { ...ociImage, mediaType: undefined }, MediaTypes.ociIndex],
    ["bad descriptor digest", withConfig({ ...ociImage.config, digest: "sha256:abc" }), MediaTypes.ociManifest],
    ["unsupported descriptor digest", withLayer({ ...ociImage.layers[0], digest: "md5:d41d8cd98f00b204e9800998ecf8427e" }), MediaTypes.ociManifest],
    ["negative size", withLayer({ ...ociImage.layers[0], size: -1 }), MediaTypes.ociManifest],
    ["size as string", withLayer({ ...ociImage.layers[0], size: "12" }), MediaTypes.ociManifest],
    ["fractional size", withLayer({ ...ociImage.layers[0], size: 1.5 }), MediaTypes.ociManifest],
    ["unsafe size", withLayer({ ...ociImage.layers[0], size: 2 ** 60 }), MediaTypes.ociManifest],
    ["missing size", withLayer({ mediaType: MediaTypes.ociLayerTar, digest: d("2") }), MediaTypes.ociManifest],
    ["empty descriptor mediaType", withLayer({ ...ociImage.layers[0], mediaType: "" }), MediaTypes.ociManifest],
    ["descriptor mediaType without subtype", withLayer({ ...ociImage.layers[0], mediaType: "application" }), MediaTypes.ociManifest],
    ["descriptor not an object", withLayer("sha256:1111"), MediaTypes.ociManifest],
    ["missing config", { ...ociImage, config: undefined }, MediaTypes.ociManifest],
    ["missing layers", { ...ociImage, layers: undefined }, MediaTypes.ociManifest],
    ["layers not an array", { ...ociImage, layers: {} }, MediaTypes.ociManifest],
    ["missing manifests", { ...ociIndex, manifests: undefined }, MediaTypes.ociIndex],
    ["docker list entry without platform", { ...dockerList, manifests: [{ ...dockerList.manifests[0], platform: undefined }] }, MediaTypes.dockerManifestList],
    ["platform without os", { ...ociIndex, manifests: [{ ...ociIndex.manifests[0], platform: { architecture: "amd64" } }] }, MediaTypes.ociIndex],
    ["annotation value not a string", { ...ociImage, annotations: { a: 1 } }, MediaTypes.ociManifest],
    ["annotations an array", { ...ociImage, annotations: ["a"] }, MediaTypes.ociManifest],
    ["urls not strings", withLayer({ ...ociImage.layers[0], urls: [1] }), MediaTypes.ociManifest],
    ["subject not a descriptor", { ...ociImage, subject: d("a") }, MediaTypes.ociManifest],
    ["artifactType not a media type", { ...ociImage, artifactType: "sbom" }, MediaTypes.ociManifest],
    ["data not base64", withConfig({ ...artifact.config, data: "e30" }), MediaTypes.ociManifest],
    ["data of the wrong size", withConfig({ ...artifact.config, size: 3 }), MediaTypes.ociManifest],
    ["data not matching digest", withConfig({ ...artifact.config, data: "W10=" }), MediaTypes.ociManifest],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), MediaTypes.ociManifest],
  ])("%s → MANIFEST_INVALID", (_, body, contentType) => {
    const error = expectOciError(() => parseManifest(body instanceof Uint8Array ? body : bytes(body), contentType), "MANIFEST_INVALID");
    expect(error.status).toBe(400);
    expect(error.detail).toEqual(expect.any(String));
  });

  test.each<[string, unknown, string]>([
    ["layer size", withLayer({ ...ociImage.layers[0], size: -1 }), "layers[0].size: must be a non-negative integer"],
    ["config digest", withConfig({ ...ociImage.config, digest: "sha256:abc" }), "config.digest: must be a sha256 or sha512 digest (algorithm:lowercase-hex)"],
    ["not JSON", "{", "manifest is not valid JSON"],
  ])("detail names the field: %s", (_, body, detail) => {
    expect(expectOciError(() => parseManifest(bytes(body), null), "MANIFEST_INVALID").detail).toBe(detail);
  });

  test("schema 1 is refused with a clear reason", () => {
    const error = expectOciError(() => parseManifest(bytes({ schemaVersion: 1, fsLayers: [] }), null), "MANIFEST_INVALID");
    expect(error.detail).toBe("schema1 unsupported");
  });

  test("4 MiB + 1 byte → SIZE_INVALID 413", () => {
    const body = new Uint8Array(MAX_MANIFEST_BYTES + 1).fill(0x20);
    const error = expectOciError(() => parseManifest(body, MediaTypes.ociManifest), "SIZE_INVALID");
    expect(error.status).toBe(413);
  });
});

describe("referencedBlobs", () => {
  test.each<[string, unknown, string[], string[]]>([
    ["OCI image: config and layers", ociImage, [d("1"), d("2"), d("3")], []],
    ["Docker image: foreign layer with urls skipped", dockerImage, [d("4"), d("5")], []],
    ["artifact: subject not included", artifact, [EMPTY_DIGEST, d("9")], []],
    ["signature without layers", signature, [d("b")], []],
    ["index: child manifests", ociIndex, [], [d("a"), d("b"), d("c"), d("d"), d("e")]],
    ["index with subject: subject not included", indexWithSubject, [], [d("a"), d("b"), d("c"), d("d"), d("e")]],
  ])("%s", (_, body, blobs, manifests) => {
    const refs = referencedBlobs(parseManifest(bytes(body), null));
    expect(refs.blobs.map((x) => x.digest)).toEqual(blobs);
    expect(refs.manifests.map((x) => x.digest)).toEqual(manifests);
  });
});

describe("manifest media types", () => {
  test("the four", () => {
    expect([...MANIFEST_MEDIA_TYPES].sort()).toEqual(
      [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerManifestList].sort(),
    );
  });

  test.each([
    [MediaTypes.ociManifest, true],
    [MediaTypes.ociIndex, true],
    [MediaTypes.dockerManifest, true],
    [MediaTypes.dockerManifestList, true],
    [`${MediaTypes.ociIndex}; charset=utf-8`, true],
    [MediaTypes.dockerManifestSchema1Signed, false],
    [MediaTypes.ociConfig, false],
    ["application/json", false],
    ["", false],
  ])("%s → %s", (t, expected) => {
    expect(isManifestMediaType(t)).toBe(expected);
  });
});
