import type { Digest, RepositoryName } from "@registry/core";

/** A fresh repository name per test, so contract runs never see each other's data. */
export function freshRepository(prefix: string): RepositoryName {
  return `contract/${prefix}-${crypto.randomUUID().slice(0, 8)}` as RepositoryName;
}

/** `n` random bytes. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** The sha256 digest of `bytes`. */
export async function sha256(bytes: Uint8Array): Promise<Digest> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}` as Digest;
}

/** All of a stream's bytes. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** An OCI image manifest naming a config and one layer of the given digests and sizes, as bytes. */
export function imageManifestBytes(config: { digest: string; size: number }, layer: { digest: string; size: number }, extra: object = {}): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
    ...extra,
  };
  return new TextEncoder().encode(JSON.stringify(manifest));
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
