import { digestOf, MANIFEST_MEDIA_TYPES, RegistryTokens, TokenRequestError } from "@registry/core";
import { idleLimited, within } from "./deadlines";
import { UpstreamError, unreachableReason, type UpstreamFailure } from "./upstream-error";
import type { Upstream } from "./upstreams";
import { upstreamRepository } from "./upstreams";

/** Every manifest type, so the upstream answers with what it stores rather than converting. */
const ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");

/** Upstream tokens kept per isolate: one per upstream and repository scope, so at most this many (oldest dropped). */
const MAX_CACHED_TOKENS = 1000;

/** Upstream tokens by upstream and scope, kept until they expire (shared by all requests of an isolate). */
const tokens = new RegistryTokens(MAX_CACHED_TOKENS);

/**
 * Talks to an upstream registry as a real client would: sends the right Accept headers, follows its Bearer
 * (or Basic) challenge with the configured credentials or anonymously, caches tokens until they expire,
 * follows blob redirects without leaking credentials. Every exchange has the upstream's time limit, for its
 * answer and again for each pause in its body. Returns null for 404; every failure (network, timeout, 429,
 * 401/403, any other status, unreadable content) throws an UpstreamError.
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
    return digestOf("sha256", full.bytes);
  }

  async getManifest(repository: string, reference: string): Promise<{ bytes: Uint8Array; mediaType: string } | null> {
    const res = await this.request("GET", repository, `manifests/${reference}`, { Accept: ACCEPT });
    if (!res) return null;
    return { bytes: new Uint8Array(await this.read(res, (r) => r.arrayBuffer())), mediaType: res.headers.get("Content-Type") ?? "" };
  }

  /** A blob's size, or null when the upstream does not have it. */
  async headBlob(repository: string, digest: string): Promise<number | null> {
    const res = await this.request("HEAD", repository, `blobs/${digest}`, {});
    return res ? Number(res.headers.get("Content-Length") ?? 0) : null;
  }

  /** A blob's response (status 200 or 206), body unread; the body fails with an UpstreamError if it stalls or breaks. */
  async getBlob(repository: string, digest: string, range?: string): Promise<Response | null> {
    return this.request("GET", repository, `blobs/${digest}`, range ? { Range: range } : {});
  }

  /** One page of tags (`query` is `?n=…&last=…`), and whether the upstream has more; null for an unknown repository. */
  async listTags(repository: string, query: string): Promise<{ tags: string[]; more: boolean } | null> {
    const res = await this.request("GET", repository, `tags/list${query}`, {});
    if (!res) return null;
    const body = await this.read(res, (r) => r.json<{ tags?: string[] | null }>(), "a tag list that is not JSON");
    return { tags: body.tags ?? [], more: res.headers.has("Link") };
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
      auth = await this.authenticate(res.headers.get("WWW-Authenticate"), scope, name);
      await res.body?.cancel();
      res = await this.send(method, url, { ...headers, ...(auth ? { Authorization: auth } : {}) });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    const failure = failureOf(res, name);
    if (failure) {
      await res.body?.cancel();
      throw this.error(failure);
    }
    return res;
  }

  /**
   * One HTTP exchange within the upstream's time limit; redirects (blob CDNs) are followed without the
   * Authorization header. The body of the answer is held to the same limit for each pause.
   */
  private async send(method: string, url: string, headers: Record<string, string>): Promise<Response> {
    let res = await this.exchange(method, url, headers);
    for (let hops = 0; hops < 5 && res.status >= 301 && res.status <= 308 && res.headers.get("Location"); hops++) {
      const next = new URL(res.headers.get("Location")!, url).toString();
      await res.body?.cancel();
      const { Authorization: _dropped, ...rest } = headers;
      res = await this.exchange(method, next, rest);
    }
    if (!res.body || res.status < 200 || res.status >= 300) return res;
    const body = idleLimited(res.body, this.upstream.timeoutMs, {
      idle: () => this.timedOut(true),
      broken: () => this.error({ kind: "broken" }),
    });
    return new Response(body, res);
  }

  private async exchange(method: string, url: string, headers: Record<string, string>): Promise<Response> {
    const abort = new AbortController();
    try {
      const answer = this.fetcher(url, { method, headers, redirect: "manual", signal: abort.signal });
      return await within(answer, this.upstream.timeoutMs, () => this.timedOut(false));
    } catch (e) {
      abort.abort();
      throw e instanceof UpstreamError ? e : this.error({ kind: "unreachable", reason: unreachableReason(e) });
    }
  }

  /** Reads a body; a body that is not what `read` expects (e.g. not JSON) is the upstream's fault, not ours. */
  private async read<T>(res: Response, read: (r: Response) => Promise<T>, invalid = "an unreadable answer"): Promise<T> {
    try {
      return await read(res);
    } catch (e) {
      throw e instanceof UpstreamError ? e : this.error({ kind: "invalid", reason: invalid });
    }
  }

  private error(failure: UpstreamFailure): UpstreamError {
    return new UpstreamError(this.upstream, failure);
  }

  private timedOut(midBody: boolean): UpstreamError {
    return this.error({ kind: "timeout", seconds: this.upstream.timeoutMs / 1000, midBody });
  }

  private cachedAuth(scope: string): string | undefined {
    return tokens.get(`${this.upstream.host} ${scope}`);
  }

  /** Answers a challenge (core's RegistryTokens): a Bearer token from the upstream's realm, or Basic credentials. */
  private async authenticate(challenge: string | null, scope: string, repository: string): Promise<string | undefined> {
    try {
      return await tokens.answer(`${this.upstream.host} ${scope}`, {
        challenge,
        scopes: [scope],
        username: this.upstream.username,
        password: this.upstream.password,
        send: (url, headers) => this.send("GET", url, headers),
      });
    } catch (e) {
      if (!(e instanceof TokenRequestError)) throw e;
      if (e.cause instanceof UpstreamError) throw e.cause;
      if (e.status === undefined) throw this.error({ kind: "invalid", reason: e.message });
      throw this.error(failureOf({ status: e.status, headers: e.headers ?? new Headers() }, repository) ?? { kind: "status", status: e.status });
    }
  }
}

/** What a non-success answer (other than 404) means for the mirror; undefined for success. */
function failureOf(res: Pick<Response, "status" | "headers">, repository: string): UpstreamFailure | undefined {
  if (res.status === 429) return { kind: "rate-limited", retryAfter: res.headers.get("Retry-After") ?? undefined };
  if (res.status === 401 || res.status === 403) return { kind: "denied", repository };
  if (res.status >= 300) return { kind: "status", status: res.status };
  return undefined;
}
