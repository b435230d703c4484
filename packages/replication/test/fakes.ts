/**
 * Test doubles: an in-memory source (a SourceReader over maps, with builders for blobs, images, indexes and
 * referrers) and a fake target registry (a fetch function serving enough of the OCI distribution API — uploads
 * monolithic and chunked, mounts, manifests with blob checks, tags, optionally the referrers API — behind an
 * optional Bearer challenge with a token endpoint, or Basic).
 */
import { type Descriptor, digestOf, MediaTypes } from "@registry/core";
import type { SourceBlob, SourceManifest, SourceReader } from "../src/types";

const encoder = new TextEncoder();

/** Bytes of a JSON value (manifests are pushed as these exact bytes). */
export function json(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** An in-memory source repository set, with what was read from it. */
export class MemorySource implements SourceReader {
  readonly blobs = new Map<string, Uint8Array>();
  readonly manifests = new Map<string, SourceManifest>();
  readonly tagMap = new Map<string, Map<string, string>>();
  readonly ranges: { digest: string; offset: number; length: number }[] = [];

  async addBlob(bytes: Uint8Array, mediaType: string = MediaTypes.ociLayerTarGzip): Promise<Descriptor> {
    const digest = await digestOf("sha256", bytes);
    this.blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  }

  async addManifest(repository: string, value: Record<string, unknown>, tag?: string): Promise<Descriptor> {
    const bytes = json(value);
    const digest = await digestOf("sha256", bytes);
    const mediaType = value.mediaType as string;
    this.manifests.set(`${repository}@${digest}`, { digest, mediaType, bytes });
    if (tag) this.tag(repository, tag, digest);
    const d: Descriptor = { mediaType, digest, size: bytes.length };
    if (typeof value.artifactType === "string") d.artifactType = value.artifactType;
    if (value.annotations) d.annotations = value.annotations as Record<string, string>;
    return d;
  }

  /** An image of `layers` random-free deterministic blobs (config `{}` plus the layers), optionally a referrer. */
  async addImage(
    repository: string,
    o: { layers: Uint8Array[]; tag?: string; subject?: Descriptor; artifactType?: string; annotations?: Record<string, string>; platform?: string },
  ): Promise<Descriptor> {
    const config = await this.addBlob(json({ architecture: o.platform ?? "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }), MediaTypes.ociConfig);
    const layers = await Promise.all(o.layers.map((l) => this.addBlob(l)));
    return this.addManifest(
      repository,
      {
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        ...(o.artifactType ? { artifactType: o.artifactType } : {}),
        config,
        layers,
        ...(o.subject ? { subject: { mediaType: o.subject.mediaType, digest: o.subject.digest, size: o.subject.size } } : {}),
        ...(o.annotations ? { annotations: o.annotations } : {}),
      },
      o.tag,
    );
  }

  async addIndex(repository: string, children: { d: Descriptor; arch: string }[], tag?: string): Promise<Descriptor> {
    const manifests = children.map(({ d, arch }) => ({ mediaType: d.mediaType, digest: d.digest, size: d.size, platform: { os: "linux", architecture: arch } }));
    return this.addManifest(repository, { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }, tag);
  }

  tag(repository: string, tag: string, digest: string): void {
    const tags = this.tagMap.get(repository) ?? new Map<string, string>();
    tags.set(tag, digest);
    this.tagMap.set(repository, tags);
  }

  async manifest(repository: string, reference: string): Promise<SourceManifest | null> {
    const digest = this.tagMap.get(repository)?.get(reference) ?? reference;
    return this.manifests.get(`${repository}@${digest}`) ?? null;
  }

  async blob(_repository: string, digest: string): Promise<SourceBlob | null> {
    const bytes = this.blobs.get(digest);
    if (!bytes) return null;
    return {
      size: bytes.length,
      read: async (range) => {
        if (range) this.ranges.push({ digest, ...range });
        const part = range ? bytes.subarray(range.offset, range.offset + range.length) : bytes;
        // Two pieces, so the engine sees a real stream rather than one buffer.
        const half = Math.floor(part.length / 2);
        return new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(part.slice(0, half));
            c.enqueue(part.slice(half));
            c.close();
          },
        });
      },
    };
  }

  async referrers(repository: string, digest: string): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    for (const [key, m] of this.manifests) {
      if (!key.startsWith(`${repository}@`)) continue;
      const body = JSON.parse(new TextDecoder().decode(m.bytes)) as {
        subject?: Descriptor;
        artifactType?: string;
        config?: Descriptor;
        annotations?: Record<string, string>;
      };
      if (body.subject?.digest !== digest) continue;
      const d: Descriptor = { mediaType: m.mediaType, digest: m.digest as Descriptor["digest"], size: m.bytes.length };
      const artifactType = body.artifactType ?? body.config?.mediaType;
      if (artifactType) d.artifactType = artifactType;
      if (body.annotations) d.annotations = body.annotations;
      out.push(d);
    }
    return out;
  }

  async tags(repository: string): Promise<string[]> {
    return [...(this.tagMap.get(repository)?.keys() ?? [])];
  }
}

export interface FakeTargetOptions {
  /** `bearer`: a Docker token challenge (token endpoint at /token, Basic u:p); `basic`: Basic u:p; none: open. */
  auth?: "bearer" | "basic";
  referrersApi?: boolean;
  /** Answer OCI-Subject when a manifest with a subject is pushed (default: when it has the referrers API). */
  ociSubject?: boolean;
  chunkMinLength?: number;
  chunkMaxLength?: number;
}

interface Upload {
  repository: string;
  parts: Uint8Array[];
  size: number;
}

const errorBody = (code: string, message: string) => JSON.stringify({ errors: [{ code, message }] });
const ociError = (status: number, code: string, message: string) =>
  new Response(errorBody(code, message), { status, headers: { "Content-Type": "application/json" } });

/** A fake OCI registry served by a fetch function; `log` lists every request (`METHOD /path?query`). */
export class FakeTarget {
  private static instances = 0;
  /** A base URL of its own, so tokens and known blobs kept per isolate never cross from one fake to another. */
  readonly url = `https://target-${++FakeTarget.instances}.test`;
  readonly blobs = new Map<string, Map<string, Uint8Array>>();
  readonly manifests = new Map<string, Map<string, { bytes: Uint8Array; mediaType: string }>>();
  readonly tags = new Map<string, Map<string, string>>();
  readonly log: string[] = [];
  /** Sizes of every PATCH body. */
  readonly patches: number[] = [];
  tokenRequests: string[] = [];
  /** Answer instead of the registry when it returns a Response (failure injection). */
  fail?: (method: string, path: string) => Response | undefined;
  private readonly uploads = new Map<string, Upload>();
  private readonly issued = new Set<string>();
  private nextId = 0;

  constructor(readonly options: FakeTargetOptions = {}) {}

  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array();
    const declared = request.headers.get("Content-Length");
    if (request.body && declared !== null && Number(declared) !== body.length) return ociError(400, "SIZE_INVALID", "Content-Length differs");
    if (url.pathname === "/token") return this.token(url, request.headers);
    this.log.push(`${request.method} ${url.pathname}${url.search}`);
    const denied = this.challenge(url.pathname, request.headers.get("Authorization"));
    if (denied) return denied;
    const injected = this.fail?.(request.method, `${url.pathname}${url.search}`);
    if (injected) return injected;
    return this.route(request.method, url, request.headers, body);
  };

  blob(repository: string, digest: string): Uint8Array | undefined {
    return this.blobs.get(repository)?.get(digest);
  }

  manifest(repository: string, reference: string): { bytes: Uint8Array; mediaType: string } | undefined {
    const digest = this.tags.get(repository)?.get(reference) ?? reference;
    return this.manifests.get(repository)?.get(digest);
  }

  async putBlob(repository: string, bytes: Uint8Array): Promise<string> {
    const digest = await digestOf("sha256", bytes);
    this.repo(this.blobs, repository).set(digest, bytes);
    return digest;
  }

  /** Requests that change something, in order. */
  writes(): string[] {
    return this.log.filter((l) => /^(PUT|POST|PATCH|DELETE) /.test(l));
  }

  /** Forgets every token issued (as if they had expired). */
  revokeTokens(): void {
    this.issued.clear();
  }

  private challenge(path: string, authorization: string | null): Response | undefined {
    const { auth } = this.options;
    if (!auth) return undefined;
    if (auth === "basic") {
      if (authorization === `Basic ${btoa("u:p")}`) return undefined;
      return new Response(errorBody("UNAUTHORIZED", "authentication required"), { status: 401, headers: { "WWW-Authenticate": 'Basic realm="fake"' } });
    }
    if (authorization?.startsWith("Bearer ") && this.issued.has(authorization.slice(7))) return undefined;
    const name = /^\/v2\/(.+?)\/(?:blobs|manifests|referrers|tags)\//.exec(path)?.[1] ?? "";
    return new Response(errorBody("UNAUTHORIZED", "authentication required"), {
      status: 401,
      headers: { "WWW-Authenticate": `Bearer realm="${this.url}/token",service="fake",scope="repository:${name}:pull,push"` },
    });
  }

  private token(url: URL, headers: Headers): Response {
    if (headers.get("Authorization") !== `Basic ${btoa("u:p")}`) return new Response("{}", { status: 401 });
    const scopes = url.searchParams.getAll("scope").join(" ");
    this.tokenRequests.push(scopes);
    const token = `t${this.tokenRequests.length}`;
    this.issued.add(token);
    return Response.json({ token, expires_in: 300 });
  }

  private repo<V>(map: Map<string, Map<string, V>>, repository: string): Map<string, V> {
    let inner = map.get(repository);
    if (!inner) {
      inner = new Map();
      map.set(repository, inner);
    }
    return inner;
  }

  private async route(method: string, url: URL, headers: Headers, body: Uint8Array): Promise<Response> {
    const path = url.pathname;
    let m = /^\/v2\/(.+)\/blobs\/uploads\/(\w*)$/.exec(path);
    if (m) return this.upload(method, m[1]!, m[2]!, url, headers, body);
    m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
    if (m && (method === "HEAD" || method === "GET")) {
      const bytes = this.blob(m[1]!, m[2]!);
      if (!bytes) return ociError(404, "BLOB_UNKNOWN", "blob unknown");
      return new Response(method === "GET" ? bytes : null, { headers: { "Content-Length": String(bytes.length), "Docker-Content-Digest": m[2]! } });
    }
    m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (m) return this.manifestRoute(method, m[1]!, m[2]!, headers, body);
    m = /^\/v2\/(.+)\/referrers\/([^/]+)$/.exec(path);
    if (m && method === "GET") {
      if (!this.options.referrersApi) return new Response("404 page not found\n", { status: 404 });
      const manifests: Descriptor[] = [];
      for (const [digest, stored] of this.manifests.get(m[1]!) ?? []) {
        const parsed = JSON.parse(new TextDecoder().decode(stored.bytes)) as { subject?: Descriptor; artifactType?: string; config?: Descriptor };
        if (parsed.subject?.digest === m[2]) {
          manifests.push({ mediaType: stored.mediaType, digest: digest as Descriptor["digest"], size: stored.bytes.length, artifactType: parsed.artifactType ?? parsed.config?.mediaType });
        }
      }
      return Response.json({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }, { headers: { "Content-Type": MediaTypes.ociIndex } });
    }
    return new Response("404 page not found\n", { status: 404 });
  }

  private async upload(method: string, repository: string, id: string, url: URL, headers: Headers, body: Uint8Array): Promise<Response> {
    if (method === "POST" && !id) {
      const mount = url.searchParams.get("mount");
      const from = url.searchParams.get("from");
      if (mount && from) {
        const bytes = this.blob(from, mount);
        if (bytes) {
          this.repo(this.blobs, repository).set(mount, bytes);
          return new Response(null, { status: 201, headers: { Location: `/v2/${repository}/blobs/${mount}` } });
        }
      }
      const next = `u${this.nextId++}`;
      this.uploads.set(next, { repository, parts: [], size: 0 });
      const h: Record<string, string> = { Location: `/v2/${repository}/blobs/uploads/${next}?state=0`, Range: "0-0" };
      if (this.options.chunkMinLength) h["OCI-Chunk-Min-Length"] = String(this.options.chunkMinLength);
      if (this.options.chunkMaxLength) h["OCI-Chunk-Max-Length"] = String(this.options.chunkMaxLength);
      return new Response(null, { status: 202, headers: h });
    }
    const upload = this.uploads.get(id);
    if (!upload) return ociError(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
    if (method === "PATCH") {
      const range = /^(\d+)-(\d+)$/.exec(headers.get("Content-Range") ?? "");
      if (!range || Number(range[1]) !== upload.size || Number(range[2]) !== upload.size + body.length - 1) return new Response(null, { status: 416 });
      const { chunkMaxLength: max } = this.options;
      if (max && body.length > max) return ociError(400, "SIZE_INVALID", "chunk larger than OCI-Chunk-Max-Length");
      upload.parts.push(body);
      upload.size += body.length;
      this.patches.push(body.length);
      return new Response(null, { status: 202, headers: { Location: `/v2/${repository}/blobs/uploads/${id}?state=${upload.size}` } });
    }
    if (method === "PUT") {
      upload.parts.push(body);
      const whole = new Uint8Array(upload.size + body.length);
      let at = 0;
      for (const p of upload.parts) {
        whole.set(p, at);
        at += p.length;
      }
      const digest = url.searchParams.get("digest");
      if (digest !== (await digestOf("sha256", whole))) return ociError(400, "DIGEST_INVALID", "provided digest did not match uploaded content");
      this.uploads.delete(id);
      this.repo(this.blobs, repository).set(digest, whole);
      return new Response(null, { status: 201, headers: { Location: `/v2/${repository}/blobs/${digest}`, "Docker-Content-Digest": digest } });
    }
    return ociError(405, "UNSUPPORTED", "method");
  }

  private async manifestRoute(method: string, repository: string, reference: string, headers: Headers, body: Uint8Array): Promise<Response> {
    if (method === "PUT") {
      const digest = await digestOf("sha256", body);
      if (reference.startsWith("sha256:") && reference !== digest) return ociError(400, "DIGEST_INVALID", "digest mismatch");
      const parsed = JSON.parse(new TextDecoder().decode(body)) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[]; subject?: Descriptor };
      for (const b of [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])]) {
        if (!this.blob(repository, b.digest)) return ociError(400, "MANIFEST_BLOB_UNKNOWN", `blob unknown to registry: ${b.digest}`);
      }
      for (const child of parsed.manifests ?? []) {
        if (!this.manifests.get(repository)?.has(child.digest)) return ociError(400, "MANIFEST_BLOB_UNKNOWN", `manifest unknown to registry: ${child.digest}`);
      }
      this.repo(this.manifests, repository).set(digest, { bytes: body, mediaType: headers.get("Content-Type") ?? "" });
      if (!reference.startsWith("sha256:")) this.repo(this.tags, repository).set(reference, digest);
      const h: Record<string, string> = { "Docker-Content-Digest": digest, Location: `/v2/${repository}/manifests/${digest}` };
      if (parsed.subject && (this.options.ociSubject ?? this.options.referrersApi)) h["OCI-Subject"] = parsed.subject.digest;
      return new Response(null, { status: 201, headers: h });
    }
    const digest = this.tags.get(repository)?.get(reference) ?? reference;
    const stored = this.manifests.get(repository)?.get(digest);
    if (method === "DELETE") {
      if (!stored || !reference.startsWith("sha256:")) return ociError(404, "MANIFEST_UNKNOWN", "manifest unknown");
      this.manifests.get(repository)?.delete(digest);
      for (const [tag, d] of this.tags.get(repository) ?? []) if (d === digest) this.tags.get(repository)?.delete(tag);
      return new Response(null, { status: 202 });
    }
    if (!stored) return ociError(404, "MANIFEST_UNKNOWN", "manifest unknown");
    return new Response(method === "GET" ? stored.bytes : null, {
      headers: { "Content-Type": stored.mediaType, "Content-Length": String(stored.bytes.length), "Docker-Content-Digest": digest },
    });
  }
}
