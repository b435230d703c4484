// The test env (`env` from cloudflare:test) is `Cloudflare.Env`: the generated bindings, plus the two secrets the
// test config sets (no config file lists secrets, so `wrangler types` cannot).
declare global {
  namespace Cloudflare {
    interface Env {
      SIGNING_KEYS?: string;
      ADMIN_TOKEN?: string;
    }
  }
}

export {};
