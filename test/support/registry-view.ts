import { createHash } from "node:crypto";
import type { RunningSystem } from "./system";

/**
 * What the registry holds, read over plain HTTP as the local robot (`sys.fetch`): tests check a client's
 * push by these, not by its exit code.
 */

export const V2S2 = "application/vnd.docker.distribution.manifest.v2+json";

const ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  V2S2,
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface StoredManifest {
  status: number;
  /** Docker-Content-Digest */
  digest: string | null;
  /** Content-Type */
  mediaType: string | null;
  /** sha256 of the body as served */
  bodyDigest: string;
  json: { mediaType?: string; config?: Desc; layers?: Desc[]; manifests?: Desc[] };
}

export const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** GET /v2/<repo>/manifests/<ref> with every manifest type accepted. */
export async function manifest(sys: RunningSystem, repo: string, ref: string): Promise<StoredManifest> {
  const res = await sys.fetch(`/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT } });
  const body = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    digest: res.headers.get("docker-content-digest"),
    mediaType: res.headers.get("content-type"),
    bodyDigest: sha256(body),
    json: res.ok ? (JSON.parse(body.toString("utf8")) as StoredManifest["json"]) : {},
  };
}

/** HEAD of every blob an image manifest names (config and layers): digest → [status, Content-Length]. */
export async function blobHeads(sys: RunningSystem, repo: string, m: StoredManifest): Promise<Map<string, [number, number]>> {
  const heads = new Map<string, [number, number]>();
  for (const d of [m.json.config, ...(m.json.layers ?? [])]) {
    if (!d) continue;
    const res = await sys.fetch(`/v2/${repo}/blobs/${d.digest}`, { method: "HEAD" });
    heads.set(d.digest, [res.status, Number(res.headers.get("content-length"))]);
  }
  return heads;
}

/** Expected value of `blobHeads` when every blob is present with its size. */
export function allPresent(m: StoredManifest): Map<string, [number, number]> {
  return new Map([m.json.config, ...(m.json.layers ?? [])].filter((d) => d !== undefined).map((d) => [d.digest, [200, d.size]]));
}

/** The tags of a repository, as the registry lists them. */
export async function tagsOf(sys: RunningSystem, repo: string): Promise<string[]> {
  const res = await sys.fetch(`/v2/${repo}/tags/list`);
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}
