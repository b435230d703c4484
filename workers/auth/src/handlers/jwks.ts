/**
 * The public keys registries verify tokens with (RFC 7517 JWK Set). Spec: Docker "Token Authentication
 * Implementation" § Verifying the token (the registry is supplied with the trusted public keys).
 */
import type { RequestContext } from "../http";

/**
 * `GET /.well-known/jwks.json` and `GET /jwks`: `{keys: [...]}`, every signing key's public half (kty, crv, x,
 * y, kid, alg ES256, use sig), the current signer first. Cacheable for 60 s.
 */
export async function getJwks(ctx: RequestContext): Promise<Response> {
  return new Response(JSON.stringify({ keys: ctx.config().publicKeys }), {
    headers: { "Content-Type": "application/jwk-set+json", "Cache-Control": "public, max-age=60" },
  });
}
