/**
 * The `WWW-Authenticate: Bearer …` challenge a registry answers 401 with (RFC 6750 § 3).
 * Spec: Docker "Token Authentication Specification" § How to authenticate.
 */

/** What a challenge names: the token endpoint, the service (token audience), the scope needed, an error. */
export interface ChallengeOptions {
  realm: string;
  service: string;
  scope?: string;
  error?: "insufficient_scope" | "invalid_token";
}

/** An RFC 7230 quoted-string: `\` and `"` escaped, control characters (CR/LF/…) dropped. */
function quote(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: dropping control characters is the point
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, "").replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * `Bearer realm="…",service="…"[,scope="…"][,error="…"]`, every value quote-escaped (so a scope or realm can
 * never break out of its parameter or inject a header line). Never throws.
 */
export function formatChallenge({ realm, service, scope, error }: ChallengeOptions): string {
  const params = [`realm=${quote(realm)}`, `service=${quote(service)}`];
  if (scope !== undefined && scope !== "") params.push(`scope=${quote(scope)}`);
  if (error !== undefined) params.push(`error=${quote(error)}`);
  return `Bearer ${params.join(",")}`;
}
