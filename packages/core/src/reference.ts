/**
 * Names: repository names and tags as they appear in `/v2/<name>/manifests/<reference>`, and image references as
 * users type them (`alpine`, `ghcr.io/org/app:1`, `localhost:5000/a/b@sha256:…`).
 *
 * Spec: OCI distribution-spec "Pulling manifests" (the `<name>` and `<reference>` grammars); image references
 * follow the semantics of docker/distribution's `reference` package (normalisation of Docker Hub names).
 */
import type { Digest } from "./digest";
import { parseDigest } from "./digest";
import { OciError } from "./errors";

// ---------------------------------------------------------------------------------------------------------------
// Regex building blocks. Each grammar below is composed from these so that it reads like the spec's grammar.

/** Concatenates expressions. */
function expression(...parts: string[]): string {
  return parts.join("");
}
/** Groups without capturing, so that a quantifier applies to the whole. */
function group(...parts: string[]): string {
  return `(?:${expression(...parts)})`;
}
/** Matches the parts zero or one time. */
function optional(...parts: string[]): string {
  return `${group(...parts)}?`;
}
/** Matches the parts zero or more times. */
function anyTimes(...parts: string[]): string {
  return `${group(...parts)}*`;
}
/** One of several alternatives. */
function oneOf(...alternatives: string[]): string {
  return group(alternatives.join("|"));
}
/** Captures the parts as a numbered group. */
function capture(...parts: string[]): string {
  return `(${expression(...parts)})`;
}
/** A RegExp that must match the whole input. */
function anchored(...parts: string[]): RegExp {
  return new RegExp(`^${expression(...parts)}$`);
}

// ---------------------------------------------------------------------------------------------------------------
// Fragments

/** A run of lowercase letters and digits: the substance of a path component. */
const alphanumeric = "[a-z0-9]+";
/** What may join two alphanumeric runs inside a component: one period, one or two underscores, or any dashes. */
const separator = oneOf("\\.", "_", "__", "-+");
/** One `/`-separated component of a repository name; starts and ends alphanumeric. */
const pathComponent = expression(alphanumeric, anyTimes(separator, alphanumeric));
/** A repository name as the distribution spec defines `<name>`: components joined by `/`. */
const repositoryName = expression(pathComponent, anyTimes("/", pathComponent));

/** A DNS label: alphanumerics, with dashes allowed inside but not at either end. Case-insensitive. */
const domainNameComponent = oneOf("[a-zA-Z0-9]", "[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]");
/** A host name or IPv4 address: labels joined by periods. */
const domainName = expression(domainNameComponent, anyTimes("\\.", domainNameComponent));
/** An IPv6 address in brackets, as in URLs (loosely: hex digits and colons). */
const ipv6Address = "\\[[a-fA-F0-9:]+\\]";
/** A registry host with an optional port. */
const domainAndPort = expression(oneOf(domainName, ipv6Address), optional(":[0-9]+"));

/** A tag: up to 128 word characters, periods and dashes, not starting with a period or dash. */
const tag = "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}";
/** The image-spec digest grammar; `parseDigest` then applies the registered-algorithm rules. */
const digest = "[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+";

/** A full reference: `[host[:port]/]path[:tag][@digest]`, capturing name, tag and digest. */
const imageReference = anchored(
  capture(optional(domainAndPort, "/"), repositoryName),
  optional(":", capture(tag)),
  optional("@", capture(digest)),
);
const anchoredRepositoryName = anchored(repositoryName);
const anchoredDomainAndPort = anchored(domainAndPort);
const anchoredTag = anchored(tag);
/** A bare 64-hex image ID, which Docker refuses as a name to avoid confusion with IDs. */
const anchoredImageId = anchored("[a-f0-9]{64}");

/** Longest repository name the distribution spec lets registries accept without question. */
const MAX_NAME_LENGTH = 255;

// ---------------------------------------------------------------------------------------------------------------
// Repository names and tags

/** A repository name that `parseRepositoryName` accepted. */
export type RepositoryName = string & { readonly __brand: "RepositoryName" };
/** A tag that `parseTag` accepted. */
export type Tag = string & { readonly __brand: "Tag" };

/**
 * Parses a repository name: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`, at most
 * 255 characters. Throws `OciError("NAME_INVALID", {detail: {name, reason}})`.
 * Spec: distribution-spec "Pulling manifests" (`<name>`).
 */
export function parseRepositoryName(s: string): RepositoryName {
  const fail = (reason: string): OciError => new OciError("NAME_INVALID", { detail: { name: s, reason } });
  if (typeof s !== "string" || s === "") throw fail("repository name is empty");
  if (s.length > MAX_NAME_LENGTH) throw fail(`repository name is longer than ${MAX_NAME_LENGTH} characters`);
  if (!anchoredRepositoryName.test(s)) {
    throw fail(
      s.toLowerCase() !== s
        ? "repository name must be lowercase"
        : "repository name must be lowercase alphanumeric components separated by '/', joined within by '.', '_', '__' or dashes",
    );
  }
  return s as RepositoryName;
}

/** True if `parseRepositoryName(s)` would succeed. Never throws. */
export function isRepositoryName(s: string): boolean {
  return typeof s === "string" && s.length <= MAX_NAME_LENGTH && anchoredRepositoryName.test(s);
}

/**
 * Parses a tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. Throws `OciError("MANIFEST_INVALID", {detail: "invalid tag"})`
 * (status 400; the spec has no TAG_INVALID code). Spec: distribution-spec "Pulling manifests" (`<reference>`).
 */
export function parseTag(s: string): Tag {
  if (typeof s !== "string" || !anchoredTag.test(s)) throw new OciError("MANIFEST_INVALID", { detail: "invalid tag" });
  return s as Tag;
}

/** True if `parseTag(s)` would succeed. Never throws. */
export function isTag(s: string): boolean {
  return typeof s === "string" && anchoredTag.test(s);
}

/** The `<reference>` of a manifest URL: a tag or a digest. */
export type Reference = { kind: "tag"; tag: Tag } | { kind: "digest"; digest: Digest };

/**
 * Parses the `<reference>` of `/v2/<name>/manifests/<reference>`: a digest if it contains ':' (throws
 * `OciError("DIGEST_INVALID")` if bad), otherwise a tag (throws `OciError("MANIFEST_INVALID")`, status 400).
 * Spec: distribution-spec "Pulling manifests".
 */
export function parseReference(s: string): Reference {
  if (s.includes(":")) return { kind: "digest", digest: parseDigest(s) };
  return { kind: "tag", tag: parseTag(s) };
}

// ---------------------------------------------------------------------------------------------------------------
// Image references, as users type them

/** A fully qualified image reference: registry host[:port], repository path, and tag and/or digest. */
export interface ImageReference {
  registry: string;
  repository: RepositoryName;
  tag?: Tag;
  digest?: Digest;
}

const DEFAULT_REGISTRY = "docker.io";
const LEGACY_DEFAULT_REGISTRY = "index.docker.io";
const OFFICIAL_REPOSITORY_PREFIX = "library/";

/**
 * Splits `s` into registry and remainder the way Docker does: the first component is a registry only if it
 * contains '.' or ':', is `localhost`, or has uppercase letters (which a repository path cannot have);
 * otherwise the registry is Docker Hub, where single-component names live under `library/`.
 */
function splitRegistry(s: string): [registry: string, remainder: string] {
  const slash = s.indexOf("/");
  const first = slash === -1 ? "" : s.slice(0, slash);
  let registry: string;
  let remainder: string;
  if (slash === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    registry = DEFAULT_REGISTRY;
    remainder = s;
  } else {
    registry = first;
    remainder = s.slice(slash + 1);
  }
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !remainder.includes("/")) remainder = OFFICIAL_REPOSITORY_PREFIX + remainder;
  return [registry, remainder];
}

/**
 * Parses what users type — `alpine`, `alpine:3.19`, `library/alpine@sha256:…`, `ghcr.io/org/app:1`,
 * `localhost:5000/a/b:t@sha256:…`, `127.0.0.1:8080/x`, `[::1]:5000/a` — into a normalised reference:
 * no registry → `docker.io` (a first component is a registry only if it has '.' or ':', is `localhost`, or —
 * as in Docker — has uppercase letters, which a repository path cannot);
 * a single-component Docker Hub path gets `library/`; `index.docker.io` → `docker.io`; no tag and no digest
 * → tag `latest`. Throws `OciError("NAME_INVALID")` for a malformed reference or repository path (including
 * uppercase) and `OciError("DIGEST_INVALID")` for a digest that is not a supported one.
 * Spec: docker/distribution `reference.ParseNormalizedNamed`; distribution-spec "Pulling manifests".
 */
export function parseImageReference(s: string): ImageReference {
  const fail = (reason: string): OciError => new OciError("NAME_INVALID", { detail: { reference: s, reason } });
  if (typeof s !== "string" || s === "") throw fail("reference is empty");
  if (anchoredImageId.test(s)) throw fail("a 64-character hexadecimal string is an image ID, not a reference");
  const [registry, remainder] = splitRegistry(s);
  if (!anchoredDomainAndPort.test(registry)) throw fail(`invalid registry host ${registry}`);
  const at = remainder.indexOf("@");
  const beforeDigest = at === -1 ? remainder : remainder.slice(0, at);
  const colon = beforeDigest.indexOf(":");
  const path = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  if (path.toLowerCase() !== path) throw fail("repository name must be lowercase");
  const match = imageReference.exec(`${registry}/${remainder}`);
  if (!match) throw fail("invalid reference format");
  const [, name = "", tagText, digestText] = match;
  const repository = parseRepositoryName(name.slice(registry.length + 1));
  const result: ImageReference = { registry, repository };
  if (tagText !== undefined) result.tag = tagText as Tag;
  if (digestText !== undefined) result.digest = parseDigest(digestText);
  if (result.tag === undefined && result.digest === undefined) result.tag = "latest" as Tag;
  return result;
}

/**
 * True if `s` is a registry host as references write it: a host name, IPv4 address or bracketed IPv6 address,
 * with an optional `:port` (`ghcr.io`, `localhost:5000`, `[::1]:5000`). Never throws.
 */
export function isRegistryHost(s: string): boolean {
  return typeof s === "string" && anchoredDomainAndPort.test(s);
}

/** `registry/repository[:tag][@digest]`, the inverse of `parseImageReference` (always fully qualified). */
export function formatImageReference(r: ImageReference): string {
  let out = `${r.registry}/${r.repository}`;
  if (r.tag !== undefined) out += `:${r.tag}`;
  if (r.digest !== undefined) out += `@${r.digest}`;
  return out;
}
