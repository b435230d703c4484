import { OciError } from "@registry/core";

/** One upstream registry the mirror may pull from. */
export interface Upstream {
  /** The registry host clients name in `?ns=` (e.g. `docker.io`, `127.0.0.1:5000`). */
  host: string;
  /** Base URL the mirror talks to (e.g. `https://registry-1.docker.io`). */
  url: string;
  /** Docker Hub: one-component names get `library/` (`alpine` → `library/alpine`). */
  libraryPrefix: boolean;
  /** How long the upstream may take to answer, and to send the next bytes of a body (default 30 s). */
  timeoutMs: number;
  /** Optional credentials for the upstream's token service (from Workers secrets; never logged). */
  username?: string;
  password?: string;
}

export interface UpstreamConfig {
  upstreams: Map<string, Upstream>;
  /** Served when a request has no `?ns=` (dockerd's `registry-mirrors`). */
  defaultHost: string;
}

/** The upstream time limit when neither `UPSTREAM_TIMEOUT` nor the upstream's `timeout` says otherwise. */
export const DEFAULT_UPSTREAM_TIMEOUT_SEC = 30;

/**
 * Reads the `UPSTREAMS` JSON (`{"docker.io": {"url": "https://registry-1.docker.io", "libraryPrefix": true,
 * "credentials": "DOCKERHUB", "timeout": 30}}`) and `DEFAULT_UPSTREAM`. Credentials name a pair of secrets
 * `<NAME>_USERNAME` / `<NAME>_PASSWORD` looked up in `secrets`; `timeout` (seconds) overrides `timeoutSec`.
 */
export function parseUpstreams(
  json: string,
  defaultHost: string,
  secrets: Record<string, unknown>,
  timeoutSec = DEFAULT_UPSTREAM_TIMEOUT_SEC,
): UpstreamConfig {
  const raw = JSON.parse(json) as Record<string, { url: string; libraryPrefix?: boolean; credentials?: string; timeout?: number }>;
  const upstreams = new Map<string, Upstream>();
  for (const [host, u] of Object.entries(raw)) {
    const seconds = positive(u.timeout) ?? positive(timeoutSec) ?? DEFAULT_UPSTREAM_TIMEOUT_SEC;
    const upstream: Upstream = {
      host,
      url: u.url.replace(/\/+$/, ""),
      libraryPrefix: u.libraryPrefix ?? host === "docker.io",
      timeoutMs: seconds * 1000,
    };
    if (u.credentials) {
      const user = secrets[`${u.credentials}_USERNAME`];
      const pass = secrets[`${u.credentials}_PASSWORD`];
      if (typeof user === "string" && typeof pass === "string") {
        upstream.username = user;
        upstream.password = pass;
      }
    }
    upstreams.set(host, upstream);
  }
  if (!upstreams.has(defaultHost)) throw new Error(`DEFAULT_UPSTREAM ${defaultHost} is not in UPSTREAMS`);
  return { upstreams, defaultHost };
}

function positive(n: unknown): number | undefined {
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The upstream a request asks for with `?ns=` (containerd hosts.toml mirrors), else the default. */
export function selectUpstream(config: UpstreamConfig, ns: string | null): Upstream {
  const host = ns === null || ns === "" ? config.defaultHost : ns === "index.docker.io" ? "docker.io" : ns;
  const upstream = config.upstreams.get(host);
  if (!upstream) throw new OciError("DENIED", { detail: `upstream ${host} is not mirrored here` });
  return upstream;
}

/** The repository name to ask the upstream for. */
export function upstreamRepository(upstream: Upstream, repository: string): string {
  return upstream.libraryPrefix && !repository.includes("/") ? `library/${repository}` : repository;
}

/** Where the mirror caches an upstream's repository locally: `<host with ':' as '-'>/<repository>`. */
export function cacheRepository(upstream: Upstream, repository: string): string {
  return `${upstream.host.replace(/:/g, "-").toLowerCase()}/${upstreamRepository(upstream, repository)}`;
}
