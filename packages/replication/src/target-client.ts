/**
 * One target registry over HTTP, as a pushing client sees it: every request carries the Authorization for its
 * scopes (core's RegistryTokens: Bearer from the challenge's realm, or Basic), a 401 is answered once and the
 * request sent again, and a failure becomes a ReplicationError naming the step, the status and the target's OCI
 * error. Spec: distribution-spec "Pushing", "Deleting", "Error Codes"; Docker token authentication.
 */
import { RegistryTokens } from "@registry/core";
import type { TargetRegistry } from "./types";

/** Target tokens kept per isolate (one per target, credentials and scope set; oldest dropped beyond this). */
const tokens = new RegistryTokens(1000);

/**
 * A target failure: the message names the step (what was being done to what), the target's status and its OCI
 * error code and message when it sent the `{"errors":[…]}` envelope, e.g.
 * `upload blob sha256:ab… to a/b: https://t answered 400 DIGEST_INVALID: provided digest did not match`.
 */
export class ReplicationError extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly status?: number,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(`${step}: ${message}`, options);
    this.name = "ReplicationError";
  }
}

type FixedLength = new (length: number) => TransformStream<Uint8Array, Uint8Array>;

/**
 * A stream body sent with its length. Node's fetch sends the Content-Length header as given; workerd sends a
 * plain ReadableStream chunked and keeps the length only for the readable half of a `FixedLengthStream` (which
 * also fails the request if the source gives more or fewer bytes).
 */
function withLength(body: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const Fixed = (globalThis as { FixedLengthStream?: FixedLength }).FixedLengthStream;
  return Fixed ? body.pipeThrough(new Fixed(length)) : body;
}

/** A request body that can be made again (a 401 on a streamed upload is answered by sending it anew). */
export type Body = () => Promise<{ body: BodyInit | null; length: number }>;

export interface TargetRequest {
  method: string;
  /** Path and query under the target's base URL (e.g. `/v2/a/b/blobs/uploads/`), or an absolute URL (Location). */
  path: string;
  /** Scopes the Authorization must cover. */
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: Body;
  /** Statuses that are answers, not failures (others throw ReplicationError). */
  ok: readonly number[];
  /** What is being done, for the error message. */
  step: string;
}

export class TargetClient {
  readonly base: string;
  private readonly fetcher: typeof fetch;

  constructor(
    readonly target: TargetRegistry,
    fetcher?: typeof fetch,
  ) {
    this.base = target.url.replace(/\/+$/, "");
    this.fetcher = fetcher ?? ((input, init) => fetch(input, init));
  }

  /** `repository:<name>:pull,push`, the scope of writing to `name`. */
  static push(name: string): string {
    return `repository:${name}:pull,push`;
  }

  /** The absolute URL of a path or Location header (relative Locations are resolved against the base). */
  url(path: string): string {
    return new URL(path, `${this.base}/`).toString();
  }

  /**
   * Sends the request with the kept Authorization for its scopes; on 401 answers the challenge and sends it again
   * (the body made anew). Returns the response when its status is in `ok` (body unread); otherwise throws
   * ReplicationError with the target's status and OCI error.
   */
  async send(req: TargetRequest): Promise<Response> {
    const key = `${this.base} ${this.target.username ?? ""} ${req.scopes.join(" ")}`;
    let res = await this.exchange(req, tokens.get(key));
    if (res.status === 401) {
      const challenge = res.headers.get("WWW-Authenticate");
      await res.body?.cancel();
      let auth: string | undefined;
      try {
        auth = await tokens.answer(key, {
          challenge,
          scopes: req.scopes,
          username: this.target.username,
          password: this.target.password,
          send: (url, headers) => this.fetcher(url, { method: "GET", headers }),
        });
      } catch (e) {
        throw new ReplicationError(req.step, `${this.base} refused a token: ${(e as Error).message}`, undefined, undefined, { cause: e });
      }
      res = await this.exchange(req, auth);
    }
    if (req.ok.includes(res.status)) return res;
    throw await this.failure(req.step, res);
  }

  private async exchange(req: TargetRequest, auth: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { ...req.headers };
    if (auth) headers.Authorization = auth;
    const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, redirect: "follow" };
    if (req.body) {
      const { body, length } = await req.body();
      headers["Content-Length"] = String(length);
      init.body = body instanceof ReadableStream ? withLength(body, length) : body;
      if (body instanceof ReadableStream) init.duplex = "half";
    }
    try {
      return await this.fetcher(this.url(req.path), init);
    } catch (e) {
      if (e instanceof ReplicationError) throw e;
      throw new ReplicationError(req.step, `${this.base} is unreachable: ${(e as Error).message}`, undefined, undefined, { cause: e });
    }
  }

  /** A ReplicationError from a failed answer: its status and the first OCI error of its envelope, if any. */
  private async failure(step: string, res: Response): Promise<ReplicationError> {
    let code: string | undefined;
    let message = "";
    try {
      const text = await res.text();
      const first = (JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] }).errors?.[0];
      if (typeof first?.code === "string") code = first.code;
      if (typeof first?.message === "string") message = first.message;
    } catch {
      // Not an OCI error envelope: the status says it all.
    }
    const what = code ? ` ${code}${message ? `: ${message}` : ""}` : "";
    return new ReplicationError(step, `${this.base} answered ${res.status}${what}`, res.status, code);
  }
}
