import { MANIFEST_MEDIA_TYPES, OciError } from "@registry/core";
import type { Upstream } from "./upstreams";
import { upstreamRepository } from "./upstreams";

/** Why an upstream could not answer: the cache decides whether a stale copy may serve instead. */
export class UpstreamError extends Error {
  constructor(
    readonly kind: "unavailable" | "rate-limited" | "denied",
    message: string,
    readonly retryAfter?: string,
  ) {
    super(message);
  }

  /** The error to show a client when nothing cached can stand in. */
  toOciError(): OciError {
    if (this.kind === "rate-limited") {
      return new OciError("TOOMANYREQUESTS", {
        detail: "the upstream registry is rate-limiting this mirror",
        headers: this.retryAfter ? { "Retry-After": this.retryAfter } : {},
      });
    }
    if (this.kind === "denied") return new OciError("DENIED", { detail: this.message });
    // The upstream is down: a gateway error, not a fault of this service or of the client's request.
    return new OciError("UNSUPPORTED", { status: 502, detail: `upstream unavailable: ${this.message}` });
  }
}

/** Every manifest type, so the upstream answers with what it stores rather than converting. */
const ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");

interface CachedToken {
  token: string;
  expires: number;
}

/** Upstream tokens by upstream and scope, kept until they expire (shared by all requests of an isolate). */
const tokens = new Map<string, CachedToken>();

/**
 * Talks to an upstream registry as a real client would: sends the right Accept headers, follows its Bearer
 * (or Basic) challenge with the configured credentials or anonymously, caches tokens until they expire,
 * follows blob redirects without leaking credentials, and turns 429 / 5xx / network failures into
 * UpstreamError. Returns null for 404.
 */
export class UpstreamClient {
  constructor(
    readonly upstream: Upstream,
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  /**
   * The digest a tag points at: a HEAD (which Docker Hub does not count as a pull); registries that do not
   * send Docker-Content-Digest on HEAD are asked with a GET instead, and the digest is computed.
   */
  async resolveTag(repository: string, tag: string): Promise<string | null> {
    const res = await this.request("HEAD", repository, `manifests/${tag}`, { Accept: ACCEPT });
    if (!res) return null;
    const digest = res.headers.get("Docker-Content-Digest");
    if (digest) return digest;
    const full = await this.getManifest(repository, tag);
    if (!full) return null;
    const hash = await crypto.subtle.digest("SHA-256", full.bytes);
    return "sha256:" + [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  async getManifest(repository: string, reference: string): Promise<{ bytes: Uint8Array; mediaType: string } | null> {
    const res = await this.request("GET", repository, `manifests/${reference}`, { Accept: ACCEPT });
    if (!res) return null;
    return { bytes: new Uint8Array(await res.arrayBuffer()), mediaType: res.headers.get("Content-Type") ?? "" };
  }

  /** A blob's size, or null when the upstream does not have it. */
  async headBlob(repository: string, digest: string): Promise<number | null> {
    const res = await this.request("HEAD", repository, `blobs/${digest}`, {});
    return res ? Number(res.headers.get("Content-Length") ?? 0) : null;
  }

  /** A blob's response (status 200 or 206), body unread. */
  async getBlob(repository: string, digest: string, range?: string): Promise<Response | null> {
    return this.request("GET", repository, `blobs/${digest}`, range ? { Range: range } : {});
  }

  async listTags(repository: string, query: string): Promise<Response | null> {
    return this.request("GET", repository, `tags/list${query}`, {});
  }

  private async request(
    method: string,
    repository: string,
    path: string,
    headers: Record<string, string>,
  ): Promise<Response | null> {
    const name = upstreamRepository(this.upstream, repository);
    const url = `${this.upstream.url}/v2/${name}/${path}`;
    const scope = `repository:${name}:pull`;
    let auth = this.cachedAuth(scope);
    let res = await this.send(method, url, { ...headers, ...(auth ? { Authorization: auth } : {}) });
    if (res.status === 401) {
      auth = await this.authenticate(res.headers.get("WWW-Authenticate"), scope);
      await res.body?.cancel();
      res = await this.send(method, url, { ...headers, ...(auth ? { Authorization: auth } : {}) });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (res.status === 429) {
      await res.body?.cancel();
      throw new UpstreamError("rate-limited", `${this.upstream.host} answered 429`, res.headers.get("Retry-After") ?? undefined);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new UpstreamError("denied", `${this.upstream.host} refused access to ${name}`);
    }
    if (res.status >= 300) {
      await res.body?.cancel();
      throw new UpstreamError("unavailable", `${this.upstream.host} answered ${res.status}`);
    }
    return res;
  }

  /** One HTTP exchange; redirects (blob CDNs) are followed without the Authorization header. */
  private async send(method: string, url: string, headers: Record<string, string>): Promise<Response> {
    try {
      let res = await this.fetcher(url, { method, headers, redirect: "manual" });
      for (let hops = 0; hops < 5 && res.status >= 301 && res.status <= 308 && res.headers.get("Location"); hops++) {
        const next = new URL(res.headers.get("Location")!, url).toString();
        await res.body?.cancel();
        const { Authorization: _dropped, ...rest } = headers;
        res = await this.fetcher(next, { method, headers: rest, redirect: "manual" });
      }
      return res;
    } catch (e) {
      throw new UpstreamError("unavailable", `${this.upstream.host}: ${String(e)}`);
    }
  }

  private cachedAuth(scope: string): string | undefined {
    const cached = tokens.get(`${this.upstream.host} ${scope}`);
    if (cached && cached.expires > Date.now()) return cached.token;
    return undefined;
  }

  /** Answers a challenge: a Bearer token from the upstream's realm, or Basic credentials. */
  private async authenticate(challenge: string | null, scope: string): Promise<string | undefined> {
    const basic = this.upstream.username ? `Basic ${btoa(`${this.upstream.username}:${this.upstream.password ?? ""}`)}` : undefined;
    if (!challenge || !/^bearer\s/i.test(challenge)) return basic;
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    if (!params.realm) return basic;
    const realm = new URL(params.realm);
    if (params.service) realm.searchParams.set("service", params.service);
    realm.searchParams.set("scope", scope);
    const res = await this.send("GET", realm.toString(), basic ? { Authorization: basic } : {});
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new UpstreamError(res.status === 429 ? "rate-limited" : "denied", `token service answered ${res.status}`);
    }
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new UpstreamError("denied", "token service gave no token");
    const header = `Bearer ${token}`;
    const lifetime = Math.max(30, body.expires_in ?? 60) - 10;
    tokens.set(`${this.upstream.host} ${scope}`, { token: header, expires: Date.now() + lifetime * 1000 });
    return header;
  }
}
