/**
 * The token service of the registry (Docker token authentication): `GET|POST /token`, the JWKS registries
 * verify with, and an admin API for robots and users. Wiring only; see README.md.
 */
import type { Env } from "./env";
import { handle } from "./routes";

export { AccountStore } from "./account-store";
export type { Env } from "./env";

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return handle(request, env);
  },
} satisfies ExportedHandler<Env>;
