#!/usr/bin/env node
// Prints a new private ES256 signing key (JWK) for the auth worker's SIGNING_KEYS secret (plain Node ESM).
//
//   node workers/auth/bin/keygen.mjs [--kid NAME] [--array]
//
// --kid    the key id (default: "es256-" + today's date + 6 random hex digits)
// --array  print it as a one-element JSON array, ready to be SIGNING_KEYS on its own
//
// Rotation: put the new key FIRST in the SIGNING_KEYS array (it signs from then on, both are published), deploy,
// and remove the old key after TOKEN_TTL seconds. The output is a secret: pipe it into `wrangler secret put`.
import { randomBytes, webcrypto } from "node:crypto";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    kid: { type: "string" },
    array: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log("usage: keygen.mjs [--kid NAME] [--array]");
  process.exit(0);
}
const kid = values.kid ?? `es256-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString("hex")}`;
const { privateKey } = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
const { kty, crv, x, y, d } = await webcrypto.subtle.exportKey("jwk", privateKey);
const jwk = { kty, crv, x, y, d, kid, alg: "ES256", use: "sig" };
console.log(JSON.stringify(values.array ? [jwk] : jwk));
