/**
 * Manifests as pushed: parsing and validating an image manifest or an index, and what follows from one (the
 * blobs it needs, the artifact type it reports in a referrers list).
 * Spec: distribution-spec "Pushing manifests", "Listing referrers"; image-spec "Image Manifest", "Image Index";
 * Docker "Image Manifest V2, Schema 2" (manifest and manifest list).
 */
import type { Descriptor } from "./descriptor";
import { isMediaTypeShape, isObject, manifestInvalid, parseAnnotations, parseDescriptor } from "./descriptor";
import { OciError } from "./errors";
import { bareMediaType, MANIFEST_MEDIA_TYPES, MediaTypes } from "./media-types";

/** Largest manifest accepted, in bytes (the distribution spec says registries SHOULD accept at least 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A validated manifest: an image manifest (config + layers) or an index (a list of manifests). */
export type Manifest =
  | {
      kind: "image";
      mediaType: string;
      config: Descriptor;
      layers: Descriptor[];
      subject?: Descriptor;
      artifactType?: string;
      annotations?: Record<string, string>;
    }
  | {
      kind: "index";
      mediaType: string;
      manifests: Descriptor[];
      subject?: Descriptor;
      artifactType?: string;
      annotations?: Record<string, string>;
    };

const SCHEMA1_TYPES: readonly string[] = [MediaTypes.dockerManifestSchema1, MediaTypes.dockerManifestSchema1Signed];
const INDEX_TYPES: readonly string[] = [MediaTypes.ociIndex, MediaTypes.dockerManifestList];

/** Decodes strict UTF-8 (a BOM is tolerated) and parses JSON; anything else is MANIFEST_INVALID. */
function decodeJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes as Uint8Array<ArrayBuffer>);
  } catch {
    throw manifestInvalid("", "manifest is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw manifestInvalid("", "manifest is not valid JSON");
  }
}

/**
 * The manifest's media type: the body's `mediaType` when present (which must be a manifest type and agree with a
 * manifest-type Content-Type), else the Content-Type's, else — when the Content-Type says nothing useful — the one
 * the body's shape makes unambiguous (`manifests` → OCI index, `config` + `layers` → OCI manifest).
 */
function effectiveMediaType(body: Record<string, unknown>, contentType: string | null): string {
  const header = contentType ? bareMediaType(contentType) : "";
  if (SCHEMA1_TYPES.includes(header)) throw manifestInvalid("", "schema1 unsupported");
  const headerIsManifest = MANIFEST_MEDIA_TYPES.includes(header);
  if (body.mediaType !== undefined) {
    if (typeof body.mediaType !== "string" || !MANIFEST_MEDIA_TYPES.includes(body.mediaType)) {
      throw manifestInvalid("mediaType", `unsupported manifest media type ${JSON.stringify(body.mediaType)}`);
    }
    if (headerIsManifest && header !== body.mediaType) {
      throw manifestInvalid("mediaType", `mediaType ${body.mediaType} does not match Content-Type ${header}`);
    }
    return body.mediaType;
  }
  if (headerIsManifest) return header;
  const looksLikeIndex = Array.isArray(body.manifests);
  const looksLikeImage = body.config !== undefined && Array.isArray(body.layers);
  if (looksLikeIndex && !looksLikeImage) return MediaTypes.ociIndex;
  if (looksLikeImage && !looksLikeIndex) return MediaTypes.ociManifest;
  throw manifestInvalid("mediaType", "cannot tell the manifest type: no mediaType field and no manifest Content-Type");
}

function parseDescriptorList(v: unknown, path: string, requirePlatform: boolean): Descriptor[] {
  if (!Array.isArray(v)) throw manifestInvalid(path, "must be an array of descriptors");
  return v.map((item, i) => {
    const descriptor = parseDescriptor(item, `${path}[${i}]`);
    if (requirePlatform && !descriptor.platform) throw manifestInvalid(`${path}[${i}].platform`, "is required");
    return descriptor;
  });
}

/**
 * Parses and validates a manifest body as pushed. `contentType` is the request's Content-Type (may be null, empty,
 * or carry parameters such as `; charset=utf-8`).
 *
 * Throws `OciError.tooLarge` (413 SIZE_INVALID) when `bytes` exceed `MAX_MANIFEST_BYTES`, and
 * `OciError("MANIFEST_INVALID")` — detail a string `"<JSON path>: <reason>"` — when: the body is not a UTF-8 JSON object;
 * `schemaVersion` is not 2 (schema 1 → detail exactly "schema1 unsupported"); `mediaType` is present but not one of the
 * four manifest types or differs from a manifest-type Content-Type; the type cannot be determined (see
 * `effectiveMediaType`); an image lacks `config` or `layers` (layers may be empty), an index lacks `manifests`,
 * a Docker manifest list entry lacks `platform`; any descriptor is invalid (see `parseDescriptor`, which also
 * covers descriptor digests); `subject` is not a descriptor, `artifactType` not a media type, or `annotations`
 * not a string map.
 * Spec: distribution-spec "Pushing manifests"; image-spec "Image Manifest" and "Image Index" property lists.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | null): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw OciError.tooLarge({ reason: `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, size: bytes.length });
  }
  const body = decodeJson(bytes);
  if (!isObject(body)) throw manifestInvalid("", "manifest must be a JSON object");
  if (body.schemaVersion === 1) throw manifestInvalid("", "schema1 unsupported");
  if (body.schemaVersion !== 2) throw manifestInvalid("schemaVersion", "must be 2");
  const mediaType = effectiveMediaType(body, contentType);

  const extras: { subject?: Descriptor; artifactType?: string; annotations?: Record<string, string> } = {};
  if (body.subject !== undefined) extras.subject = parseDescriptor(body.subject, "subject");
  if (body.artifactType !== undefined) {
    if (!isMediaTypeShape(body.artifactType)) throw manifestInvalid("artifactType", "must be a media type");
    extras.artifactType = body.artifactType;
  }
  const annotations = parseAnnotations(body.annotations, "annotations");
  if (annotations) extras.annotations = annotations;

  if (INDEX_TYPES.includes(mediaType)) {
    if (body.manifests === undefined) throw manifestInvalid("manifests", "is required in an index");
    const manifests = parseDescriptorList(body.manifests, "manifests", mediaType === MediaTypes.dockerManifestList);
    return { kind: "index", mediaType, manifests, ...extras };
  }
  if (body.config === undefined) throw manifestInvalid("config", "is required in an image manifest");
  if (body.layers === undefined) throw manifestInvalid("layers", "is required in an image manifest");
  const config = parseDescriptor(body.config, "config");
  const layers = parseDescriptorList(body.layers, "layers", false);
  return { kind: "image", mediaType, config, layers, ...extras };
}

/**
 * The `artifactType` a referrers index reports for this manifest: its `artifactType`, else for an image the
 * config's media type, else undefined. Spec: distribution-spec "Listing referrers".
 */
export function artifactTypeOf(m: Manifest): string | undefined {
  return m.artifactType ?? (m.kind === "image" ? m.config.mediaType : undefined);
}

/**
 * What the registry must already hold in the repository before accepting `m`: for an image, its config and layers
 * (`blobs`), except descriptors with `urls` (foreign / non-distributable layers fetched from elsewhere); for an
 * index, its child manifests (`manifests`). The `subject` is never included: it may be pushed later.
 * Spec: distribution-spec "Pushing manifests" (MANIFEST_BLOB_UNKNOWN) and "Pushing manifests with subject".
 */
export function referencedBlobs(m: Manifest): { blobs: Descriptor[]; manifests: Descriptor[] } {
  if (m.kind === "index") return { blobs: [], manifests: [...m.manifests] };
  const blobs = [m.config, ...m.layers].filter((d) => !(d.urls && d.urls.length > 0));
  return { blobs, manifests: [] };
}
