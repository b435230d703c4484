import type { Digest, RepositoryName, TrustedKey } from "@registry/core";

/**
 * A signature policy as the RegistryPolicy object keeps it: pulls (manifest GETs) of a repository matching
 * `repository` (core's isRepositoryPattern) need a valid signature by one of `keys`; `enforce` false is audit
 * mode (checked and logged, never refused). Enforced by the /v2 API (packages/api, signature-gate.ts).
 */
export interface SignaturePolicy {
  id: string;
  repository: string;
  keys: TrustedKey[];
  enforce: boolean;
  created: string;
}

/** A policy to add, validated by the caller (a repository pattern, at least one key that parses). */
export interface SignaturePolicyInput {
  repository: string;
  keys: TrustedKey[];
  enforce: boolean;
}

/**
 * The manifests of a repository that list `digest` as a child (the indexes that name it), from what each push
 * recorded (the repository index's `refs`): a port of its own, which a store discovers (`"parents" in store`),
 * because a store without the graph (a pull-through mirror) cannot honestly answer it.
 */
export interface ManifestParents {
  /** Digests of the repository's manifests that reference `digest` as a child manifest, at most `n` (default 20). */
  parents(repository: RepositoryName, digest: Digest, n?: number): Promise<Digest[]>;
}
