import { signatureVerifies } from "@registry/api";
import {
  artifactTypeOf,
  CosignTypes,
  matchesRepositoryPattern,
  parseManifest,
  parseTag,
  readBounded,
  type Descriptor,
  type Digest,
  type Manifest,
  type Reference,
  type RepositoryName,
} from "@registry/core";
import type { PolicyStore, ReadStores } from "@registry/storage";

/** A referrer of an image, its signatures marked, with its own referrers (issue 12 §1 "referrer tree"). */
export interface ReferrerNode {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  /** "referrer" (OCI 1.1 subject) or the cosign tag it was found under (`sha256-<hex>.sig`…). */
  via: string;
  /** For cosign signatures: the signature policies covering the repository, and whether it verifies under one. */
  signature: { verified: boolean; policies: string[] } | null;
  children: ReferrerNode[];
}

/** What the image page shows of one manifest or index. */
export interface ImageDetail {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  kind: "image" | "index";
  artifactType: string | null;
  /** An index's manifests with their platforms. */
  manifests: { digest: string; mediaType: string; size: number; platform: string | null }[];
  /** An image's config (with a summary of the config blob when small) and layers. */
  config: { digest: string; mediaType: string; size: number; os?: string; architecture?: string; created?: string } | null;
  layers: { digest: string; mediaType: string; size: number }[];
  referrers: ReferrerNode[];
}

/** Referrers looked at per manifest, and levels of nesting, so one page view stays bounded. */
const MAX_REFERRERS = 25;
const MAX_DEPTH = 3;
const MAX_CONFIG_BYTES = 64 * 1024;
const COSIGN_SUFFIXES = ["sig", "att", "sbom"] as const;

/** The detail of `ref` in `repository`, or null when absent. Throws only on storage failures. */
export async function imageDetail(stores: ReadStores, policy: PolicyStore, repository: RepositoryName, ref: Reference): Promise<ImageDetail | null> {
  const content = await stores.manifests.get(repository, ref);
  if (!content) return null;
  const manifest = parse(content.bytes, content.mediaType);
  if (!manifest) return null;
  const keys = (await policy.signaturePolicies()).filter((p) => matchesRepositoryPattern(p.repository, repository));
  return {
    repository,
    digest: content.digest,
    mediaType: content.mediaType,
    size: content.size,
    kind: manifest.kind,
    artifactType: artifactTypeOf(manifest) ?? null,
    manifests: manifest.kind === "index" ? manifest.manifests.map((d) => ({ ...summary(d), platform: platformOf(d) })) : [],
    config: manifest.kind === "image" ? await configSummary(stores, repository, manifest.config) : null,
    layers: manifest.kind === "image" ? manifest.layers.map(summary) : [],
    referrers: await referrerTree(stores, repository, content.digest, keys, MAX_DEPTH),
  };
}

type Policies = Awaited<ReturnType<PolicyStore["signaturePolicies"]>>;

/** The referrers of `subject` (OCI referrers API, then cosign's tags), each with its own, `depth` levels down. */
async function referrerTree(stores: ReadStores, repository: RepositoryName, subject: Digest, policies: Policies, depth: number): Promise<ReferrerNode[]> {
  if (depth === 0) return [];
  const found: { descriptor: Descriptor; via: string }[] = [];
  const page = await stores.manifests.listReferrers(repository, subject, MAX_REFERRERS);
  for (const d of page.items) found.push({ descriptor: d, via: "referrer" });
  if (subject.startsWith("sha256:")) {
    for (const suffix of COSIGN_SUFFIXES) {
      const tag = `${subject.replace(":", "-")}.${suffix}`;
      const info = await stores.manifests.stat(repository, { kind: "tag", tag: parseTag(tag) });
      if (info && !found.some((f) => f.descriptor.digest === info.digest)) {
        found.push({ descriptor: { mediaType: info.mediaType, digest: info.digest, size: info.size }, via: tag });
      }
    }
  }
  return Promise.all(
    found.map(async ({ descriptor, via }) => {
      const content = await stores.manifests.get(repository, { kind: "digest", digest: descriptor.digest });
      const manifest = content ? parse(content.bytes, content.mediaType) : null;
      const artifactType = descriptor.artifactType ?? (manifest ? artifactTypeOf(manifest) : undefined) ?? null;
      const isSignature = artifactType === CosignTypes.signatureArtifact || via.endsWith(".sig");
      let signature: ReferrerNode["signature"] = null;
      if (isSignature && manifest) {
        let verified = false;
        for (const p of policies) {
          if (await signatureVerifies(stores, repository, subject, manifest, p.keys)) verified = true;
        }
        signature = { verified, policies: policies.map((p) => p.id) };
      }
      return {
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        artifactType,
        size: descriptor.size,
        via,
        signature,
        children: await referrerTree(stores, repository, descriptor.digest, policies, depth - 1),
      };
    }),
  );
}

/** The config descriptor, with os, architecture and created from the config blob when it is small JSON. */
async function configSummary(stores: ReadStores, repository: RepositoryName, d: Descriptor): Promise<ImageDetail["config"]> {
  const base = summary(d);
  if (d.size > MAX_CONFIG_BYTES || !/json/.test(d.mediaType)) return base;
  const blob = await stores.blobs.open(repository, d.digest);
  if (!blob) return base;
  const bytes = await readBounded({ headers: new Headers(), body: await blob.read() }, MAX_CONFIG_BYTES);
  try {
    const config = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as Record<string, unknown>;
    const text = (k: string) => (typeof config[k] === "string" ? { [k]: config[k] as string } : {});
    return { ...base, ...text("os"), ...text("architecture"), ...text("created") };
  } catch {
    return base;
  }
}

function summary(d: Descriptor): { digest: string; mediaType: string; size: number } {
  return { digest: d.digest, mediaType: d.mediaType, size: d.size };
}

/** `os/architecture[/variant]`, or null for an entry without a platform (e.g. an attestation manifest). */
function platformOf(d: Descriptor): string | null {
  const p = d.platform;
  if (!p) return null;
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

function parse(bytes: Uint8Array, mediaType: string): Manifest | null {
  try {
    return parseManifest(bytes, mediaType);
  } catch {
    return null;
  }
}
