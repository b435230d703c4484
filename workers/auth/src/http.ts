/**
 * Request plumbing shared by the handlers: what a handler receives, and bounded body readers.
 */
import { readBounded } from "@registry/core";
import type { AccountStore } from "./account-store";
import type { Config, Env } from "./env";
import { AuthError, badRequest } from "./errors";

/** What every handler receives: the request, its URL and path parameters, bindings, config, store, address. */
export interface RequestContext {
  request: Request;
  url: URL;
  params: string[];
  env: Env;
  /** The parsed configuration (throws, and so answers 500, when misconfigured). */
  config: () => Config;
  store: DurableObjectStub<AccountStore>;
  /** The client address failed logins are counted against (see credentials.ts). */
  address: string;
  /** Names who the request turned out to be (an account's subject, "(admin)"), for its log line. */
  identify(subject: string): void;
}

/** A handler: one route's work. */
export type Handler = (ctx: RequestContext) => Promise<Response>;

/** Largest request body read (form or JSON): 64 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The body as text, at most MAX_BODY_BYTES (413 beyond, without reading further: the rest is drained). */
export async function readText(request: Request): Promise<string> {
  const bytes = await readBounded(request, MAX_BODY_BYTES);
  if (!bytes) throw new AuthError("PAYLOAD_TOO_LARGE");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest("body is not UTF-8");
  }
}

function mediaType(request: Request): string {
  return (request.headers.get("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
}

/** An `application/x-www-form-urlencoded` body (415 for another type). */
export async function readForm(request: Request): Promise<URLSearchParams> {
  if (mediaType(request) !== "application/x-www-form-urlencoded") {
    throw new AuthError("UNSUPPORTED_MEDIA_TYPE", { message: "expected application/x-www-form-urlencoded" });
  }
  return new URLSearchParams(await readText(request));
}

/** A JSON object body (415 for another type, 400 when not a JSON object). */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  if (mediaType(request) !== "application/json") throw new AuthError("UNSUPPORTED_MEDIA_TYPE", { message: "expected application/json" });
  let value: unknown;
  try {
    value = JSON.parse(await readText(request));
  } catch (e) {
    if (e instanceof AuthError) throw e;
    throw badRequest("body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("body must be a JSON object");
  return value as Record<string, unknown>;
}

/** A JSON response with this status, never cached. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", "Cache-Control": "no-store" } });
}
