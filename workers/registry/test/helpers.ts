import { SELF } from "cloudflare:test";
import { expect } from "vitest";

export const BASE = "http://registry.test";

export interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit | null;
}

/** One request to the registry worker, running in workerd with the real local R2. */
export function call({ method = "GET", path, headers = {}, body = null }: Call): Promise<Response> {
  const url = path.startsWith("http") ? path : BASE + path;
  return SELF.fetch(url, { method, headers, body });
}

export async function sha256(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const hash = await crypto.subtle.digest("SHA-256", data);
  return `sha256:${[...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export async function sha512(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const hash = await crypto.subtle.digest("SHA-512", data);
  return `sha512:${[...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** Pushes a blob monolithically (POST ?digest=) and returns its digest. */
export async function pushBlob(repo: string, bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = await sha256(data);
  const res = await call({
    method: "POST",
    path: `/v2/${repo}/blobs/uploads/?digest=${digest}`,
    headers: { "Content-Type": "application/octet-stream", "Content-Length": String(data.byteLength) },
    body: data,
  });
  if (res.status !== 201) throw new Error(`push blob: ${res.status} ${await res.text()}`);
  return digest;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

/** Pushes an image (config + layers) and its manifest under `ref`; returns the manifest's digest and bytes. */
export async function pushImage(
  repo: string,
  ref: string,
  layers: (Uint8Array | string)[] = ["layer"],
  extra: Record<string, unknown> = {},
): Promise<{ digest: string; body: string }> {
  const config = JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } });
  const configDigest = await pushBlob(repo, config);
  const layerDescs = [];
  for (const l of layers) {
    const d = await pushBlob(repo, l);
    const size = typeof l === "string" ? new TextEncoder().encode(l).byteLength : l.byteLength;
    layerDescs.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: d, size });
  }
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
    layers: layerDescs,
    ...extra,
  });
  const res = await call({ method: "PUT", path: `/v2/${repo}/manifests/${ref}`, headers: { "Content-Type": OCI_MANIFEST }, body });
  if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
  return { digest: await sha256(body), body };
}

/** The error code of an OCI error envelope. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

/** Opens an upload session (202, with OCI-Chunk-Min-Length and Docker-Upload-UUID) and returns its Location. */
export async function openUpload(repo: string): Promise<string> {
  const res = await call({ method: "POST", path: `/v2/${repo}/blobs/uploads/` });
  expect(res.status).toBe(202);
  expect(res.headers.get("oci-chunk-min-length")).toMatch(/^\d+$/);
  expect(res.headers.get("docker-upload-uuid")).toBeTruthy();
  return res.headers.get("location")!;
}

/** A blob's bytes, expecting 200. */
export async function pullBlob(repo: string, digest: string): Promise<Uint8Array> {
  const res = await call({ path: `/v2/${repo}/blobs/${digest}` });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}
