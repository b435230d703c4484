import { describe, expect, test } from "vitest";
import * as core from "../src/index";
import type {
  AuthChallenge,
  ChallengeAnswer,
  ContentHash,
  Descriptor,
  Digest,
  DigestAlgorithm,
  ErrorCode,
  Expected,
  ImageReference,
  Manifest,
  OciErrorOptions,
  StatusVariant,
  VariantOptions,
  Platform,
  Reference,
  RepositoryName,
  ResumableHash,
  Scope,
  SignatureVerdict,
  SimpleSigningPayload,
  Tag,
  TrustedKey,
} from "../src/index";

declare global {
  interface ImportMeta {
    /** Vite's eager raw glob (transformed at build time; typed here because vite's client types are not installed). */
    glob(pattern: string, options: { query: "?raw"; import: "default"; eager: true }): Record<string, string>;
  }
}

// Core is the bottom layer: it must run unchanged in Node 20 and workerd, so it imports nothing but itself.
const sources = import.meta.glob("../src/*.ts", { query: "?raw", import: "default", eager: true });
/** Source text without comments, so that prose may mention what code may not use. */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
const files = Object.entries(sources).map(([path, text]) => [path.replace("../src/", ""), code(text)] as const);

describe("core imports nothing", () => {
  test("sources were found", () => {
    expect(files.length).toBeGreaterThan(8);
  });

  // Which packages core may import (none) is checked with every other package's rules: test/architecture.

  test.each(files)("%s uses no Node or Workers globals", (_, text) => {
    expect(text).not.toMatch(/\b(?:Buffer|process|require|__dirname|globalThis\.caches|HTMLRewriter)\b|node:|cloudflare:/);
  });
});

// The public API, by name (other packages are written against exactly these).
const expectedExports = [
  "ERROR_CODES",
  "STATUS_VARIANTS",
  "OciError",
  "isOciError",
  "parseDigest",
  "isDigest",
  "digestAlgorithm",
  "digestHex",
  "digestOf",
  "formatDigest",
  "createHash",
  "restoreHash",
  "hashingStream",
  "verifyingStream",
  "Verifier",
  "resumeVerifier",
  "verifyBytes",
  "verifyDigest",
  "drainUnread",
  "concatBytes",
  "readBounded",
  "BoundedMap",
  "constantTimeEqual",
  "equalSecrets",
  "clientAddress",
  "ipv6Prefix64",
  "parseRepositoryName",
  "isRepositoryName",
  "parseTag",
  "isTag",
  "parseReference",
  "parseImageReference",
  "formatImageReference",
  "isRegistryHost",
  "isRepositoryPattern",
  "isTagPattern",
  "matchesRepositoryPattern",
  "matchesTagPattern",
  "tagRuleCovers",
  "cosignSubject",
  "startRequest",
  "finishRequest",
  "recordOutcome",
  "MediaTypes",
  "MANIFEST_MEDIA_TYPES",
  "isManifestMediaType",
  "MAX_MANIFEST_BYTES",
  "parseManifest",
  "artifactTypeOf",
  "referencedBlobs",
  "CosignTypes",
  "derToRawSignature",
  "parseCosignPublicKey",
  "parseSimpleSigning",
  "verifyCosign",
  "parsePlatform",
  "formatPlatform",
  "normalizePlatform",
  "platformMatches",
  "selectManifest",
  "parseScope",
  "parseScopes",
  "formatScope",
  "ScopeError",
  "parseAuthChallenge",
  "basicAuthorization",
  "RegistryTokens",
  "TokenRequestError",
];

test("index exports exactly the documented names", () => {
  expect(Object.keys(core).sort()).toEqual([...expectedExports].sort());
});

/** The documented types are exported: checked by tsc (`pnpm typecheck`), not at run time. */
export type DocumentedTypes = [AuthChallenge, ChallengeAnswer, ContentHash, Descriptor, Digest, DigestAlgorithm, ErrorCode, Expected, ImageReference, Manifest, OciErrorOptions, Platform, StatusVariant, VariantOptions, Reference, RepositoryName, ResumableHash, Scope, SignatureVerdict, SimpleSigningPayload, Tag, TrustedKey];

test("index lists every export by name (no export *)", () => {
  const index = files.find(([name]) => name === "index.ts")?.[1] ?? "";
  expect(index).not.toMatch(/export\s+\*/);
});
