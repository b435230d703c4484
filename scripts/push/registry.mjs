// A small OCI distribution client for pushing: the base URL of `HOST/REPO[:TAG]`, Docker token auth (the 401
// `WWW-Authenticate: Bearer realm,service,scope` challenge, a token from the realm with Basic credentials,
// refreshed on a 401) or Basic auth, and the registry's error envelope turned into errors that say what to do.
// Node 20 built-ins only (fetch).

/** Media types of the manifests this client pushes or reads from a layout. */
export const MEDIA_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerTar: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
};

/** A registry answer that is not what the request needed: status, the envelope's first code and message. */
export class RegistryError extends Error {
  /**
   * @param {string} what  the request, e.g. "PATCH /v2/app/blobs/uploads/…"
   * @param {number} status
   * @param {{ code?: string, message?: string, detail?: unknown } | undefined} error  the envelope's first error
   */
  constructor(what, status, error) {
    const told = error?.code ? `${error.code}: ${error.message ?? ""}` : "no error envelope";
    super(`${what} → ${status} ${told}${hint(status, error?.code)}`);
    this.status = status;
    this.code = error?.code;
    this.registryMessage = error?.message;
  }
}

/** What a user can do about a status (empty when the registry's own message is all there is). */
function hint(status, code) {
  if (status === 401 || code === "UNAUTHORIZED") return " (check --creds or REGISTRY_CREDS)";
  if (status === 403 || code === "DENIED") return " (these credentials may not push to this repository)";
  if (status === 413) return " (use a smaller --chunk-size)";
  return "";
}

/**
 * Parses `HOST[:PORT]/REPO[:TAG|@DIGEST]`. Returns `{ host, repository, tag?, digest? }`; throws on a reference
 * without a repository.
 * @param {string} text
 */
export function parseDestination(text) {
  const slash = text.indexOf("/");
  if (slash <= 0 || slash === text.length - 1) throw new Error(`destination ${JSON.stringify(text)} is not HOST/REPOSITORY[:TAG]`);
  const host = text.slice(0, slash);
  let rest = text.slice(slash + 1);
  let digest;
  const at = rest.indexOf("@");
  if (at >= 0) [rest, digest] = [rest.slice(0, at), rest.slice(at + 1)];
  const colon = rest.lastIndexOf(":");
  const tag = colon > rest.lastIndexOf("/") ? rest.slice(colon + 1) : undefined;
  const repository = tag === undefined ? rest : rest.slice(0, colon);
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new Error(`${JSON.stringify(repository)} is not a repository name (lowercase letters, digits, . _ - and /)`);
  }
  return { host, repository, tag, digest };
}

/** http for loopback hosts (or when asked), https otherwise. */
function baseUrl(host, plainHttp) {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  const loopback = name === "localhost" || name === "::1" || /^127\./.test(name);
  return `${plainHttp || loopback ? "http" : "https"}://${host}`;
}

/** `key="value"` pairs of a `WWW-Authenticate` challenge, with its scheme. */
export function parseChallenge(header) {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header ?? "");
  if (!m) return undefined;
  const params = {};
  for (const p of m[2].matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) params[p[1].toLowerCase()] = p[2] ?? p[3];
  return { scheme: m[1].toLowerCase(), params };
}

/**
 * One registry and repository, with credentials. `fetch(method, path, init)` adds auth (asking the realm for a
 * token after a 401 and once more when a token stops working) and returns the Response; `ok(...)` also turns an
 * unexpected status into a RegistryError. A request whose body is a stream is never replayed here: after a 401
 * it fails, and the caller resumes (the upload logic does).
 */
export class Registry {
  /**
   * @param {{ host: string, repository: string, creds?: string, plainHttp?: boolean, userAgent?: string }} options
   */
  constructor({ host, repository, creds, plainHttp = false, userAgent = "edge-registry-push" }) {
    this.host = host;
    this.repository = repository;
    this.base = baseUrl(host, plainHttp);
    this.basic = creds ? `Basic ${Buffer.from(creds).toString("base64")}` : undefined;
    this.userAgent = userAgent;
    /** @type {string | undefined} */
    this.authorization = undefined;
    /** @type {{ scheme: string, params: Record<string, string> } | undefined} */
    this.challenge = undefined;
  }

  /** URL of a /v2 path of this repository (`blobs/…`), or of an absolute Location the registry gave. */
  url(path) {
    if (/^https?:\/\//.test(path)) return path;
    if (path.startsWith("/")) return this.base + path;
    return `${this.base}/v2/${this.repository}/${path}`;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {RequestInit & { headers?: Record<string, string> }} [init]
   * @returns {Promise<Response>}
   */
  async fetch(method, path, init = {}) {
    const replayable = !(init.body instanceof ReadableStream);
    for (let attempt = 0; ; attempt++) {
      const headers = { "User-Agent": this.userAgent, ...init.headers };
      if (this.authorization) headers.Authorization = this.authorization;
      let res;
      try {
        res = await fetch(this.url(path), { ...init, method, headers, redirect: "follow", ...(replayable ? {} : { duplex: "half" }) });
      } catch (e) {
        throw new Error(`${method} ${this.url(path)}: ${e.cause?.code ?? e.cause?.message ?? e.message}${tlsHint(this.base, e)}`);
      }
      if (res.status !== 401 || attempt > 0) return res;
      const challenge = parseChallenge(res.headers.get("WWW-Authenticate"));
      await res.arrayBuffer().catch(() => undefined);
      if (!challenge) return res;
      await this.login(challenge);
      if (!replayable) return res;
    }
  }

  /** As `fetch`, expecting one of `statuses`; otherwise a RegistryError with the envelope's message. */
  async ok(method, path, statuses, init = {}) {
    const res = await this.fetch(method, path, init);
    if (statuses.includes(res.status)) return res;
    throw await errorOf(`${method} ${new URL(this.url(path)).pathname}`, res);
  }

  /** Answers a challenge: Basic credentials, or a Bearer token for pull and push on this repository. */
  async login(challenge) {
    this.challenge = challenge;
    if (challenge.scheme === "basic") {
      if (!this.basic) throw new Error(`${this.host} asks for credentials: pass --creds user:password or set REGISTRY_CREDS`);
      this.authorization = this.basic;
      return;
    }
    const { realm, service } = challenge.params;
    if (challenge.scheme !== "bearer" || !realm) throw new Error(`${this.host} answered an auth challenge this client does not know: ${challenge.scheme}`);
    const url = new URL(realm);
    if (service) url.searchParams.set("service", service);
    url.searchParams.set("scope", `repository:${this.repository}:pull,push`);
    let res;
    try {
      res = await fetch(url, { headers: this.basic ? { Authorization: this.basic } : {} });
    } catch (e) {
      throw new Error(`token service ${url.origin}: ${e.cause?.code ?? e.message}`);
    }
    if (!res.ok) throw await errorOf(`GET ${url.origin}${url.pathname} (token)`, res);
    const body = await res.json();
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token service ${url.origin} answered without a token`);
    this.authorization = `Bearer ${token}`;
  }

  /** Asks for credentials up front (GET /v2/ and its challenge), so the first upload is not refused. */
  async connect() {
    const res = await this.fetch("GET", "/v2/");
    await res.arrayBuffer().catch(() => undefined);
    if (res.status === 401) throw await errorOf("GET /v2/", res);
    if (res.status >= 400 && res.status !== 404) throw new RegistryError("GET /v2/", res.status, undefined);
  }
}

/** A RegistryError from a response (its body read as the error envelope when it is one). */
export async function errorOf(what, res) {
  const text = await res.text().catch(() => "");
  let error;
  try {
    error = JSON.parse(text).errors?.[0];
  } catch {
    error = text ? { message: text.slice(0, 300) } : undefined;
  }
  return new RegistryError(what, res.status, error);
}

function tlsHint(base, e) {
  const text = `${e.cause?.code ?? ""} ${e.cause?.message ?? ""}`;
  if (base.startsWith("https:") && /EPROTO|SSL|wrong version|ECONNRESET/i.test(text)) return " (a plain-http registry? pass --plain-http)";
  return "";
}
