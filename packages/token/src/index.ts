/**
 * `@registry/token`: Docker token authentication's JWT — verifying access tokens (the registry and the mirror),
 * reading their grants, challenging clients, and signing tokens (the auth service). Runs in Node and workerd.
 * Every export is listed by name. Spec: Docker "Token Authentication Specification", "Token Authentication
 * Implementation", "Token Scope Documentation".
 */
export type { AccessEntry, AccessClaims } from "./claims";
export { MAX_ACCESS_ENTRIES, isAccessEntry, isAccessList } from "./claims";

export type { TokenErrorCode } from "./errors";
export { TokenError } from "./errors";

export { MAX_AUTHORIZATION_BYTES, isCompactJws, parseBearer } from "./bearer";

export type { JwkSet, JwksCacheOptions } from "./jwks-cache";
export { JwksCache, serviceJwks } from "./jwks-cache";

export type { VerifyOptions } from "./verify";
export { verifyAccessToken } from "./verify";

export type { ServiceVerifier, TokenAuthEnv } from "./service-verifier";
export { serviceVerifier } from "./service-verifier";

export type { RepositoryAction } from "./allowed-actions";
export { REPOSITORY_ACTIONS, allowedActions, baseResourceType, expandRepositoryActions, repositoriesAllowing } from "./allowed-actions";

export type { ChallengeOptions } from "./challenge";
export { formatChallenge } from "./challenge";

export type { UnsignedClaims, SignOptions, SignedAccessToken } from "./sign";
export { signAccessToken, isPrivateSigningJwk } from "./sign";

export type { SigningKeyPair } from "./keys";
export { generateSigningKey, toPublicJwk } from "./keys";

export type { JWK } from "jose";
/** jose's unpadded base64url (RFC 4648 § 5) `encode`/`decode`, for services that encode as the tokens do. */
export { base64url } from "jose";
