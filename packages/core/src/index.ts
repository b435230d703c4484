/**
 * `@registry/core`: the OCI domain, pure and dependency-free — errors, digests and resumable hashing, names and
 * references, media types, manifests and descriptors, cosign signatures, platforms, token scopes. Runs unchanged
 * in Node 20 and workerd. Every export is listed by name.
 */
export type { ErrorCode, OciErrorOptions, StatusVariant, VariantOptions } from "./errors";
export { ERROR_CODES, OciError, STATUS_VARIANTS, isOciError } from "./errors";

export type { Digest, DigestAlgorithm } from "./digest";
export { parseDigest, isDigest, digestAlgorithm, digestHex, digestOf, formatDigest } from "./digest";

export type { ResumableHash } from "./hash";
export { createHash, restoreHash } from "./hash";
export { hashingStream, verifyingStream } from "./hash-stream";
export type { ContentHash, Expected } from "./verifier";
export { Verifier, resumeVerifier, verifyBytes, verifyDigest } from "./verifier";
export { drainUnread } from "./drain";
export { concatBytes, readBounded } from "./bytes";
export { BoundedMap } from "./bounded-map";
export { constantTimeEqual, equalSecrets } from "./secrets";
export { clientAddress, ipv6Prefix64 } from "./client-address";
export type { MetricsSink, RequestRecord } from "./request-log";
export { finishRequest, recordOutcome, startRequest } from "./request-log";

export type { RepositoryName, Tag, Reference, ImageReference } from "./reference";
export {
  parseRepositoryName,
  isRepositoryName,
  parseTag,
  isTag,
  parseReference,
  parseImageReference,
  formatImageReference,
  isRegistryHost,
} from "./reference";

export { cosignSubject, isRepositoryPattern, isTagPattern, matchesRepositoryPattern, matchesTagPattern, tagRuleCovers } from "./patterns";

export { MediaTypes, MANIFEST_MEDIA_TYPES, isManifestMediaType } from "./media-types";
export type { Platform, Descriptor } from "./descriptor";
export type { Manifest } from "./manifest";
export { MAX_MANIFEST_BYTES, parseManifest, artifactTypeOf, referencedBlobs } from "./manifest";

export type { SignatureVerdict, SimpleSigningPayload, TrustedKey } from "./cosign";
export { CosignTypes, derToRawSignature, parseCosignPublicKey, parseSimpleSigning, verifyCosign } from "./cosign";

export { parsePlatform, formatPlatform, normalizePlatform, platformMatches, selectManifest } from "./platform";

export type { AuthChallenge, ChallengeAnswer } from "./registry-auth";
export { parseAuthChallenge, basicAuthorization, RegistryTokens, TokenRequestError } from "./registry-auth";

export type { Scope } from "./scope";
export { parseScope, parseScopes, formatScope, ScopeError } from "./scope";
