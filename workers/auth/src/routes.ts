/**
 * The route table: one line per method and path, and the dispatcher that renders every error once.
 */
import { clientAddress, type RequestRecord } from "@registry/core";
import { configOf, type Env } from "./env";
import { AuthError, errorResponse } from "./errors";
import { createRobot, createUser, deleteUser, listRobots, listUsers, revokeRobot } from "./handlers/admin";
import { getJwks } from "./handlers/jwks";
import { getToken, postToken } from "./handlers/token";
import type { Handler } from "./http";

/** One endpoint; `name` is what the request log and metrics call it. */
type Route = readonly [method: string, path: RegExp, handler: Handler, name: string];

const ROUTES: readonly Route[] = [
  ["GET", /^\/token$/, getToken, "token.get"],
  ["POST", /^\/token$/, postToken, "token.post"],
  ["GET", /^\/\.well-known\/jwks\.json$/, getJwks, "jwks.get"],
  ["GET", /^\/jwks$/, getJwks, "jwks.get"],
  ["POST", /^\/admin\/robots$/, createRobot, "admin.robots.create"],
  ["GET", /^\/admin\/robots$/, listRobots, "admin.robots.list"],
  ["DELETE", /^\/admin\/robots\/([^/]+)$/, revokeRobot, "admin.robots.revoke"],
  ["POST", /^\/admin\/users$/, createUser, "admin.users.create"],
  ["GET", /^\/admin\/users$/, listUsers, "admin.users.list"],
  ["DELETE", /^\/admin\/users\/([^/]+)$/, deleteUser, "admin.users.delete"],
];

/** The one Durable Object holding accounts. */
function accountStore(env: Env) {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName("accounts"));
}

/**
 * Routes a request; every failure becomes one `{"errors":[…]}` response (unexpected ones a logged 500 naming
 * `record.id`, the request id of the log line). `record` gets the route's name.
 */
export async function handle(request: Request, env: Env, record: RequestRecord): Promise<Response> {
  const requestId = record.id;
  try {
    const url = new URL(request.url);
    const matching = ROUTES.filter(([, path]) => path.test(url.pathname));
    if (matching.length === 0) throw new AuthError("NOT_FOUND", { message: `no route ${url.pathname.slice(0, 200)}` });
    const route = matching.find(([method]) => method === request.method);
    if (!route) {
      throw new AuthError("METHOD_NOT_ALLOWED", { headers: { Allow: matching.map(([m]) => m).join(", ") } });
    }
    const [, path, handler, name] = route;
    record.route = name;
    return await handler({
      request,
      url,
      params: path.exec(url.pathname)!.slice(1),
      env,
      config: () => configOf(env),
      store: accountStore(env),
      address: clientAddress(request),
      identify: (subject) => {
        if (subject) record.subject = subject;
      },
    });
  } catch (e) {
    return errorResponse(e, requestId);
  }
}
