/**
 * The admin API: robot accounts (CI) and users. Every call needs `Authorization: Bearer <ADMIN_TOKEN>`
 * (compared in constant time; failures are throttled like logins, under the name "(admin)").
 *
 *   POST   /admin/robots          {name, rules, description?, catalog?} → 201 {name: "robot$<name>", secret, …}
 *   GET    /admin/robots          → {robots: [...]} (no secrets)
 *   DELETE /admin/robots/<name>   → 204 (login refused at once, refresh tokens revoked); 404 if unknown
 *   POST   /admin/users           {name, password, rules, description?, catalog?} → 201 {name, …}
 *   GET    /admin/users           → {users: [...]}
 *   DELETE /admin/users/<name>    → 204; 404 if unknown
 */
import type { AccountKind, AccountRecord } from "../account-store";
import { AuthError, badRequest } from "../errors";
import { json, readJsonObject, type RequestContext } from "../http";
import { tooManyAttempts } from "../login";
import { equalSecrets } from "@registry/core";
import { MAX_SECRET_LENGTH, hashSecret, randomSecret } from "../passwords";
import { parseRules } from "../rules";

/** Robot and user names: lowercase alphanumerics separated by `.`, `_` or `-`, at most 64 characters. */
const ACCOUNT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Robots' subjects carry this prefix, so a robot and a user can never share a name. */
export const ROBOT_PREFIX = "robot$";
/** Shortest user password accepted. */
export const MIN_PASSWORD_LENGTH = 8;

function adminRefused(message: string): AuthError {
  return new AuthError("UNAUTHORIZED", { message, headers: { "WWW-Authenticate": 'Bearer realm="admin"' } });
}

/** Throws 401 unless the request carries the admin token (429 while this address is throttled). */
export async function requireAdmin(ctx: RequestContext): Promise<void> {
  const expected = ctx.env.ADMIN_TOKEN ?? "";
  const header = ctx.request.headers.get("Authorization") ?? "";
  const m = header.length <= 4096 ? /^[ \t]*bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
  if (expected === "") throw adminRefused("the admin API is disabled (ADMIN_TOKEN is not set)");
  if (!m) throw adminRefused("admin token required");
  const start = await ctx.store.beginLogin("(admin)", ctx.address);
  if (start.retryAfterMs > 0) throw tooManyAttempts(start.retryAfterMs);
  const ok = await equalSecrets(m[1]!, expected);
  const wait = await ctx.store.finishLogin("(admin)", ctx.address, ok);
  if (wait > 0) throw tooManyAttempts(wait);
  if (!ok) throw adminRefused("invalid admin token");
  ctx.identify("(admin)");
}

function accountName(value: unknown): string {
  if (typeof value !== "string" || value.length > 64 || !ACCOUNT_NAME.test(value)) {
    throw badRequest("name must be lowercase letters and digits separated by . _ or -, at most 64 characters");
  }
  return value;
}

function common(body: Record<string, unknown>) {
  if (body.description !== undefined && (typeof body.description !== "string" || body.description.length > 1024)) {
    throw badRequest("description must be a string of at most 1024 characters");
  }
  if (body.catalog !== undefined && typeof body.catalog !== "boolean") throw badRequest("catalog must be a boolean");
  return { rules: parseRules(body.rules), description: (body.description as string | undefined) ?? "", catalog: body.catalog === true };
}

async function create(ctx: RequestContext, record: Omit<AccountRecord, "createdAt">): Promise<AccountRecord> {
  const account = { ...record, createdAt: new Date().toISOString() };
  if (!(await ctx.store.createAccount(account))) throw new AuthError("CONFLICT", { message: `${record.name} already exists` });
  return account;
}

function shown({ secretHash: _hidden, ...rest }: AccountRecord) {
  return rest;
}

/** `POST /admin/robots`: a robot with a random 32-byte secret, shown in this response only. */
export async function createRobot(ctx: RequestContext): Promise<Response> {
  await requireAdmin(ctx);
  const body = await readJsonObject(ctx.request);
  const name = ROBOT_PREFIX + accountName(body.name);
  const fields = common(body);
  const secret = randomSecret(32);
  const account = await create(ctx, { name, kind: "robot", secretHash: await hashSecret(secret), ...fields });
  return json({ ...shown(account), secret }, 201);
}

/** `POST /admin/users`: a user with the given password (8 … 1024 characters). */
export async function createUser(ctx: RequestContext): Promise<Response> {
  await requireAdmin(ctx);
  const body = await readJsonObject(ctx.request);
  const name = accountName(body.name);
  const password = body.password;
  if (typeof password !== "string" || password.length < MIN_PASSWORD_LENGTH || password.length > MAX_SECRET_LENGTH) {
    throw badRequest(`password must be a string of ${MIN_PASSWORD_LENGTH} to ${MAX_SECRET_LENGTH} characters`);
  }
  const account = await create(ctx, { name, kind: "user", secretHash: await hashSecret(password), ...common(body) });
  return json(shown(account), 201);
}

function lister(kind: AccountKind, key: string) {
  return async (ctx: RequestContext): Promise<Response> => {
    await requireAdmin(ctx);
    return json({ [key]: await ctx.store.listAccounts(kind) });
  };
}

function deleter(kind: AccountKind) {
  return async (ctx: RequestContext): Promise<Response> => {
    await requireAdmin(ctx);
    let name: string;
    try {
      name = decodeURIComponent(ctx.params[0] ?? "");
    } catch {
      throw badRequest("malformed name");
    }
    if (kind === "robot" && !name.startsWith(ROBOT_PREFIX)) name = ROBOT_PREFIX + name;
    if (!(await ctx.store.deleteAccount(kind, name))) throw new AuthError("NOT_FOUND", { message: `no ${kind} ${name}` });
    return new Response(null, { status: 204 });
  };
}

/** `GET /admin/robots`: every robot, without secrets. */
export const listRobots = lister("robot", "robots");
/** `GET /admin/users`: every user, without password hashes. */
export const listUsers = lister("user", "users");
/** `DELETE /admin/robots/<name>` (`ci` or `robot$ci`): revokes the robot and its refresh tokens. */
export const revokeRobot = deleter("robot");
/** `DELETE /admin/users/<name>`: removes the user and its refresh tokens. */
export const deleteUser = deleter("user");
