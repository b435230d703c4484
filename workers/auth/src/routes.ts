/**
 * The route table: one line per method and path, and the dispatcher that renders every error once.
 */
import { clientAddress } from "@registry/core";
import { configOf, type Env } from "./env";
import { AuthError, errorResponse } from "./errors";
import { createRobot, createUser, deleteUser, listRobots, listUsers, revokeRobot } from "./handlers/admin";
import { getJwks } from "./handlers/jwks";
import { getToken, postToken } from "./handlers/token";
import type { Handler } from "./http";

type Route = readonly [method: string, path: RegExp, handler: Handler];

const ROUTES: readonly Route[] = [
  ["GET", /^\/token$/, getToken],
  ["POST", /^\/token$/, postToken],
  ["GET", /^\/\.well-known\/jwks\.json$/, getJwks],
  ["GET", /^\/jwks$/, getJwks],
  ["POST", /^\/admin\/robots$/, createRobot],
  ["GET", /^\/admin\/robots$/, listRobots],
  ["DELETE", /^\/admin\/robots\/([^/]+)$/, revokeRobot],
  ["POST", /^\/admin\/users$/, createUser],
  ["GET", /^\/admin\/users$/, listUsers],
  ["DELETE", /^\/admin\/users\/([^/]+)$/, deleteUser],
];

/** The one Durable Object holding accounts. */
function accountStore(env: Env) {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName("accounts"));
}

/** Routes a request; every failure becomes one `{"errors":[…]}` response (unexpected ones a logged 500). */
export async function handle(request: Request, env: Env): Promise<Response> {
  const requestId = request.headers.get("cf-ray") ?? crypto.randomUUID();
  try {
    const url = new URL(request.url);
    const matching = ROUTES.filter(([, path]) => path.test(url.pathname));
    if (matching.length === 0) throw new AuthError("NOT_FOUND", { message: `no route ${url.pathname.slice(0, 200)}` });
    const route = matching.find(([method]) => method === request.method);
    if (!route) {
      throw new AuthError("METHOD_NOT_ALLOWED", { headers: { Allow: matching.map(([m]) => m).join(", ") } });
    }
    const [, path, handler] = route;
    return await handler({
      request,
      url,
      params: path.exec(url.pathname)!.slice(1),
      env,
      config: () => configOf(env),
      store: accountStore(env),
      address: clientAddress(request),
    });
  } catch (e) {
    return errorResponse(e, requestId);
  }
}
