/**
 * The token endpoint: `GET /token` (Docker token spec, Basic or anonymous) and `POST /token` (OAuth2 password
 * and refresh_token grants). Spec: Docker "Token Authentication Specification" § Requesting a Token;
 * "OAuth2 Token Authentication" § Getting a token; "Token Scope Documentation" § Refresh Tokens.
 */
import { parseAuthorization } from "../credentials";
import { AuthError, badRequest } from "../errors";
import { parseRequestedScopes, type Principal } from "../grants";
import type { RequestContext } from "../http";
import { readForm } from "../http";
import { createRefreshToken, issueAccessToken, refreshTokenDigest, scopeString, tokenResponse } from "../issue";
import { invalidClient, login, principalOf, unauthorized } from "../login";

/** RFC 6749 Appendix A.1: client_id = *VSCHAR (printable ASCII); at most 256 characters here. */
function checkClientId(clientId: string | null, required: boolean): string {
  if (clientId === null || clientId === "") {
    if (required) throw badRequest("client_id is required");
    return "";
  }
  if (clientId.length > 256 || !/^[\x20-\x7e]+$/.test(clientId)) throw badRequest("client_id must be printable ASCII, at most 256 characters");
  return clientId;
}

function checkService(ctx: RequestContext, service: string | null): string {
  const expected = ctx.config().service;
  if (service === null || service === "") throw badRequest("service is required");
  if (service !== expected) throw badRequest(`unknown service ${JSON.stringify(service.slice(0, 100))}, this server issues tokens for ${JSON.stringify(expected)}`);
  return service;
}

/**
 * `GET /token?service=…&scope=…[&scope=…][&offline_token=true][&client_id=…][&account=…]` with HTTP Basic
 * credentials or none (anonymous). 200 `{token, access_token, expires_in, issued_at, refresh_token?}`; the
 * refresh token only for `offline_token=true` with credentials. `account` is informational: the subject always
 * comes from the credentials. 400 for a wrong service or bad scope, 401 for bad credentials, 429 when throttled.
 */
export async function getToken(ctx: RequestContext): Promise<Response> {
  const config = ctx.config();
  const q = ctx.url.searchParams;
  const service = checkService(ctx, q.get("service"));
  const clientId = checkClientId(q.get("client_id"), false);
  const scopes = parseRequestedScopes(q.getAll("scope"));
  const auth = parseAuthorization(ctx.request.headers.get("Authorization"));
  if (auth.kind === "invalid") throw unauthorized(config.issuer, "malformed Authorization header (expected Basic credentials)");
  let principal: Principal = { subject: "", rules: config.anonymousRules, catalog: false };
  if (auth.kind === "basic") {
    principal = principalOf(await login(ctx.store, auth.credentials, ctx.address, config.issuer), config.anonymousRules);
  }
  ctx.identify(principal.subject);
  const issued = await issueAccessToken(config, principal, scopes);
  const offline = q.get("offline_token") === "true" && principal.subject !== "";
  const refreshToken = offline ? await createRefreshToken(ctx.store, principal.subject, service, clientId) : undefined;
  return tokenResponse(issued, { refresh_token: refreshToken });
}

/**
 * `POST /token` (form): `grant_type` = `password` (username, password) or `refresh_token` (refresh_token), with
 * `service` and `client_id` (both required), `scope` (space-separated), `access_type=offline` for a refresh token
 * (a refresh grant returns the same one). 200 `{access_token, token, expires_in, issued_at, scope, refresh_token?}`.
 * A refresh token is good only for its own subject and service: presented with another `username` (form or Basic)
 * or service, or revoked / expired, it is refused. Errors are RFC 6749 §5.2's `{"error", "error_description"}`
 * (see AuthError.toOAuthResponse): 400 `invalid_grant` for bad credentials or refresh tokens, 401 `invalid_client`
 * for a malformed `Authorization`, 429 while throttled; an unexpected failure is still the 500 envelope.
 */
export async function postToken(ctx: RequestContext): Promise<Response> {
  try {
    return await oauthGrant(ctx);
  } catch (e) {
    if (e instanceof AuthError) return e.toOAuthResponse();
    throw e;
  }
}

async function oauthGrant(ctx: RequestContext): Promise<Response> {
  const config = ctx.config();
  const form = await readForm(ctx.request);
  const grantType = form.get("grant_type");
  if (!grantType) throw badRequest("grant_type is required");
  if (grantType !== "password" && grantType !== "refresh_token") {
    throw new AuthError("UNSUPPORTED_GRANT_TYPE", { message: "grant_type must be password or refresh_token" });
  }
  const service = checkService(ctx, form.get("service"));
  const clientId = checkClientId(form.get("client_id"), true);
  const scopes = parseRequestedScopes(form.getAll("scope"));
  const offline = form.get("access_type") === "offline";

  let principal: Principal;
  let refreshToken: string | undefined;
  if (grantType === "password") {
    const username = form.get("username");
    const password = form.get("password");
    if (!username || password === null) throw badRequest("username and password are required for grant_type=password");
    principal = principalOf(await login(ctx.store, { username, password }, ctx.address, config.issuer), config.anonymousRules);
    if (offline) refreshToken = await createRefreshToken(ctx.store, principal.subject, service, clientId);
  } else {
    const presented = form.get("refresh_token");
    if (!presented) throw badRequest("refresh_token is required for grant_type=refresh_token");
    const record = presented.length <= 256 ? await ctx.store.getRefreshToken(await refreshTokenDigest(presented)) : null;
    if (!record || record.service !== service) throw unauthorized(config.issuer, "invalid refresh token");
    const basic = parseAuthorization(ctx.request.headers.get("Authorization"));
    const claimed = [form.get("username"), basic.kind === "basic" ? basic.credentials.username : null];
    if (basic.kind === "invalid") throw invalidClient(config.issuer);
    if (claimed.some((u) => u !== null && u !== "" && u !== record.subject)) {
      throw unauthorized(config.issuer, "refresh token belongs to another subject");
    }
    const account = await ctx.store.getAccount(record.subject);
    if (!account) throw unauthorized(config.issuer, "invalid refresh token");
    principal = principalOf(account, config.anonymousRules);
    if (offline) refreshToken = presented;
  }
  ctx.identify(principal.subject);
  const issued = await issueAccessToken(config, principal, scopes);
  return tokenResponse(issued, { scope: scopeString(issued.access), refresh_token: refreshToken });
}
