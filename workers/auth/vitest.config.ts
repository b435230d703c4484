import { webcrypto } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/** A fresh TEST-ONLY ES256 signing key per test run (never committed, never used outside these tests). */
async function testSigningKey(kid: string): Promise<Record<string, unknown>> {
  const { privateKey } = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  return { ...(await webcrypto.subtle.exportKey("jwk", privateKey)), kid, alg: "ES256", use: "sig" };
}

/** Admin token of the tests only. */
export const TEST_ADMIN_TOKEN = "test-admin-token-not-a-real-secret-0123456789";

// The auth worker inside workerd with its real SQLite Durable Object; the secrets are test values.
export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      main: `${import.meta.dirname}/src/index.ts`,
      wrangler: { configPath: `${import.meta.dirname}/wrangler.toml` },
      miniflare: {
        bindings: {
          SIGNING_KEYS: JSON.stringify([await testSigningKey("test-key-1")]),
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          ANONYMOUS_PULL: "public/*",
        },
      },
    }),
  ],
  test: { name: "auth", root: import.meta.dirname, include: ["test/**/*.test.ts"], testTimeout: 60_000 },
}));
