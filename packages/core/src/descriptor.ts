/**
 * Descriptors — `{mediaType, digest, size, …}` pointers from one piece of content to another — and the platform
 * object that index entries carry. `parseDescriptor` validates one as found inside a pushed manifest.
 * Spec: OCI image-spec "Content Descriptors" and "Image Index" § platform.
 */
import type { Digest } from "./digest";
import { digestAlgorithm, isDigest } from "./digest";
import { fromBase64 } from "./encoding";
import { OciError } from "./errors";
import { createHash } from "./hash";

/** The platform an index entry is built for (image-spec "Image Index" § platform). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
  features?: string[];
}

/** A content descriptor (image-spec "Content Descriptors"). */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
  /** Base64 of the content itself, embedded. */
  data?: string;
}

/** RFC 6838 `type/subtype` as the image-spec JSON schema restricts media types (no parameters). */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** True if `s` has the RFC 6838 `type/subtype` shape required of descriptor media types and artifact types. */
export function isMediaTypeShape(s: unknown): s is string {
  return typeof s === "string" && MEDIA_TYPE.test(s);
}

/** `OciError("MANIFEST_INVALID")` whose detail is `"<JSON path>: <reason>"` (just the reason when path is ""). */
export function manifestInvalid(path: string, reason: string): OciError {
  return new OciError("MANIFEST_INVALID", { detail: path ? `${path}: ${reason}` : reason });
}

/** True for a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Validates an optional `annotations` map: string keys to string values. */
export function parseAnnotations(v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw manifestInvalid(path, "must be an object of strings");
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== "string") throw manifestInvalid(`${path}.${key}`, "annotation values must be strings");
  }
  return { ...(v as Record<string, string>) };
}

function parseStringArray(v: unknown, path: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw manifestInvalid(path, "must be an array of strings");
  return [...(v as string[])];
}

function parseNonEmptyString(v: unknown, path: string): string {
  if (typeof v !== "string" || v === "") throw manifestInvalid(path, "must be a non-empty string");
  return v;
}

/** Validates a descriptor's `platform` object: `os` and `architecture` required, the rest optional. */
export function parsePlatformObject(v: unknown, path: string): Platform {
  if (!isObject(v)) throw manifestInvalid(path, "must be an object");
  const platform: Platform = {
    os: parseNonEmptyString(v.os, `${path}.os`),
    architecture: parseNonEmptyString(v.architecture, `${path}.architecture`),
  };
  if (v.variant !== undefined) {
    if (typeof v.variant !== "string") throw manifestInvalid(`${path}.variant`, "must be a string");
    platform.variant = v.variant;
  }
  const osVersion = v["os.version"];
  if (osVersion !== undefined) {
    if (typeof osVersion !== "string") throw manifestInvalid(`${path}.os.version`, "must be a string");
    platform["os.version"] = osVersion;
  }
  const osFeatures = parseStringArray(v["os.features"], `${path}.os.features`);
  if (osFeatures) platform["os.features"] = osFeatures;
  const features = parseStringArray(v.features, `${path}.features`);
  if (features) platform.features = features;
  return platform;
}

/**
 * Validates one descriptor found at JSON path `path` of a manifest: `mediaType` of RFC 6838 shape, `digest`
 * accepted by `parseDigest`, `size` a non-negative safe integer; optional `urls` (strings), `annotations`
 * (string map), `artifactType` (media type shape), `platform`, and `data` (base64 whose decoded bytes must
 * have exactly `size` bytes and hash to `digest`). Throws `OciError("MANIFEST_INVALID")` with detail
 * `"<path>.<field>: <reason>"`.
 * Spec: image-spec "Content Descriptors" (properties, § Digests, § Embedded content).
 */
export function parseDescriptor(v: unknown, path: string): Descriptor {
  if (!isObject(v)) throw manifestInvalid(path, "must be a descriptor object");
  if (!isMediaTypeShape(v.mediaType)) throw manifestInvalid(`${path}.mediaType`, "must be a media type (type/subtype)");
  if (typeof v.digest !== "string" || !isDigest(v.digest)) {
    throw manifestInvalid(`${path}.digest`, "must be a sha256 or sha512 digest (algorithm:lowercase-hex)");
  }
  if (typeof v.size !== "number" || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw manifestInvalid(`${path}.size`, "must be a non-negative integer");
  }
  const descriptor: Descriptor = { mediaType: v.mediaType, digest: v.digest as Digest, size: v.size };
  const urls = parseStringArray(v.urls, `${path}.urls`);
  if (urls) descriptor.urls = urls;
  const annotations = parseAnnotations(v.annotations, `${path}.annotations`);
  if (annotations) descriptor.annotations = annotations;
  if (v.artifactType !== undefined) {
    if (!isMediaTypeShape(v.artifactType)) throw manifestInvalid(`${path}.artifactType`, "must be a media type");
    descriptor.artifactType = v.artifactType;
  }
  if (v.platform !== undefined) descriptor.platform = parsePlatformObject(v.platform, `${path}.platform`);
  if (v.data !== undefined) {
    const bytes = typeof v.data === "string" ? fromBase64(v.data) : undefined;
    if (!bytes) throw manifestInvalid(`${path}.data`, "must be base64");
    if (bytes.length !== descriptor.size) throw manifestInvalid(`${path}.data`, "decoded length differs from size");
    const hash = createHash(digestAlgorithm(descriptor.digest));
    hash.update(bytes);
    if (hash.digest() !== descriptor.digest) throw manifestInvalid(`${path}.data`, "does not match digest");
    descriptor.data = v.data as string;
  }
  return descriptor;
}
