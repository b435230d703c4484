import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { vi } from "vitest";
import worker, { type Env } from "../src/index";

/**
 * A stand-in upstream registry for the mirror worker, put in place of the global `fetch` the mirror's
 * upstream client uses: it serves the manifests and blobs put in it (`/v2/<name>/manifests/<ref>`,
 * `/v2/<name>/blobs/<digest>`, `library/` names as Docker Hub), unless `fault` answers first — a failing,
 * stalling or refusing upstream.
 */
export class FakeUpstream {
  static readonly URL = "http://upstream.test";
  /** Every request the mirror made upstream: `METHOD /path`. */
  readonly requests: string[] = [];
  /** Answers a request before the registry does; undefined lets it through. */
  fault: ((request: Request) => Response | Promise<Response> | undefined) | undefined;
  private readonly manifests = new Map<string, { bytes: Uint8Array; digest: string }>();
  private readonly blobs = new Map<string, Uint8Array>();

  /** Puts a manifest (and its tag) in `repository`; returns its digest. */
  async putManifest(repository: string, tag: string, manifest: object): Promise<string> {
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    const digest = await sha256(bytes);
    this.manifests.set(`${repository}:${tag}`, { bytes, digest });
    this.manifests.set(`${repository}@${digest}`, { bytes, digest });
    return digest;
  }

  /** Puts a blob; returns its digest. */
  async putBlob(bytes: Uint8Array): Promise<string> {
    const digest = await sha256(bytes);
    this.blobs.set(digest, bytes);
    return digest;
  }

  /** Replaces the global `fetch` with this upstream until the test's stubs are restored. */
  install(): this {
    vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) => this.handle(new Request(input, init)));
    return this;
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    this.requests.push(`${request.method} ${url.pathname}`);
    const faulty = await this.fault?.(request);
    if (faulty) return faulty;
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    const head = request.method === "HEAD";
    if (m?.[2] === "manifests") {
      const found = this.manifests.get(`${m[1]}${m[3]!.includes(":") ? "@" : ":"}${m[3]}`);
      if (!found) return new Response(null, { status: 404 });
      const headers = { "Content-Type": OCI_MANIFEST, "Content-Length": String(found.bytes.byteLength), "Docker-Content-Digest": found.digest };
      return new Response(head ? null : found.bytes, { headers });
    }
    if (m?.[2] === "blobs") {
      const found = this.blobs.get(m[3]!);
      if (!found) return new Response(null, { status: 404 });
      return new Response(head ? null : found, { headers: { "Content-Length": String(found.byteLength) } });
    }
    return new Response(null, { status: 404 });
  }
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** An image manifest (config and one layer, not stored anywhere: only manifests are pulled in these tests). */
export function imageManifest(seed: string): object {
  const descriptor = (mediaType: string, n: number) => ({ mediaType, digest: `sha256:${seed.padEnd(63, "0")}${n}`, size: 10 });
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor("application/vnd.oci.image.config.v1+json", 1),
    layers: [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", 2)],
  };
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", bytes);
  return `sha256:${[...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * One request to the mirror worker (docker.io → the fake upstream, 1 s upstream time limit, tags
 * revalidated on every pull); `settled()` waits for the work it left running (cache fills).
 */
export async function mirror(path: string, init: RequestInit = {}, vars: Partial<Env> = {}) {
  const ctx = createExecutionContext();
  const testEnv = {
    ...(env as unknown as Env),
    UPSTREAMS: JSON.stringify({ "docker.io": { url: FakeUpstream.URL } }),
    UPSTREAM_TIMEOUT: "1",
    TAG_TTL: "0",
    ...vars,
  };
  const res = await worker.fetch(new Request(`http://mirror.test${path}`, init), testEnv, ctx);
  return Object.assign(res, { settled: () => waitOnExecutionContext(ctx) });
}

/** A body that sends (a copy of) `bytes` and then nothing more, ever (a stalled upstream). */
export function stalling(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice());
    },
  });
}

/** A body that sends (a copy of) `bytes` and then breaks (a dropped connection). */
export function breaking(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (sent) return controller.error(new Error("Network connection lost."));
      sent = true;
      controller.enqueue(bytes.slice());
    },
  });
}
