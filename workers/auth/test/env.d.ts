import type { Env as AuthEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends AuthEnv {}
  }
}
