/**
 * The token service of the registry (Docker token authentication): `GET|POST /token`, the JWKS registries
 * verify with, and an admin API for robots and users. Wiring only; see README.md.
 */
import { drainUnread, finishRequest, startRequest } from "@registry/core";
import type { Env } from "./env";
import { handle } from "./routes";

export { AccountStore } from "./account-store";
export type { Env } from "./env";

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const record = startRequest("auth", request); // one log line and data point per request (core request-log.ts)
    const response = await handle(request, env, record);
    await drainUnread(request); // an unread body would make workerd reset the connection
    return finishRequest(record, request, response, env.METRICS);
  },
} satisfies ExportedHandler<Env>;
