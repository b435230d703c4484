import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

/**
 * `pnpm admin` (scripts/admin/cli.mjs) and workers/auth/bin/robots.mjs as child processes against a node:http
 * stand-in for the registry's /admin/immutability and the auth worker's /admin/robots: no system is started.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN = "s3cret-admin";

type Rule = { id: string; repository: string; tag: string; created: string };
type Robot = { name: string; rules: { repository: string; actions: string[] }[]; catalog: boolean; description?: string; createdAt: string };
const rules: Rule[] = [];
const robots: Robot[] = [];
let nextId = 1;
let server: Server;
let base: string;
let stateDir: string;

function send(res: ServerResponse, status: number, body?: unknown) {
  res.writeHead(status, body === undefined ? {} : { "Content-Type": "application/json" });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  let text = "";
  for await (const chunk of req) text += chunk;
  const url = new URL(req.url ?? "/", "http://x");
  const robotsApi = url.pathname.startsWith("/admin/robots");
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    // The auth worker answers in the registry's envelope, the registry's admin API with {"error"}.
    return send(res, 401, robotsApi ? { errors: [{ code: "UNAUTHORIZED", message: "admin token required" }] } : { error: "admin token required" });
  }
  if (url.pathname === "/admin/immutability" && req.method === "GET") return send(res, 200, { rules });
  if (url.pathname === "/admin/immutability" && req.method === "POST") {
    const { repository, tag } = JSON.parse(text) as { repository: string; tag: string };
    if (!repository || !tag || tag.includes(" ")) return send(res, 400, { error: `bad tag pattern ${JSON.stringify(tag)}` });
    const rule = { id: `r${nextId++}`, repository, tag, created: new Date(Date.UTC(2026, 10, nextId)).toISOString() };
    rules.push(rule);
    return send(res, 201, rule);
  }
  const rule = /^\/admin\/immutability\/([^/]+)$/.exec(url.pathname);
  if (rule && req.method === "DELETE") {
    const id = decodeURIComponent(rule[1] ?? "");
    const i = rules.findIndex((r) => r.id === id);
    if (i < 0) return send(res, 404, { error: `no rule ${id}` });
    rules.splice(i, 1);
    return send(res, 204);
  }
  if (url.pathname === "/admin/robots" && req.method === "GET") return send(res, 200, { robots });
  if (url.pathname === "/admin/robots" && req.method === "POST") {
    const body = JSON.parse(text) as Omit<Robot, "createdAt">;
    const robot = { ...body, name: `robot$${body.name}`, createdAt: "2026-11-30T12:00:00.000Z" };
    robots.push(robot);
    return send(res, 201, { ...robot, secret: "the-secret" });
  }
  const robot = /^\/admin\/robots\/([^/]+)$/.exec(url.pathname);
  if (robot && req.method === "DELETE") {
    const name = decodeURIComponent(robot[1] ?? "").replace(/^(robot\$)?/, "robot$");
    const i = robots.findIndex((r) => r.name === name);
    if (i < 0) return send(res, 404, { errors: [{ code: "NAME_UNKNOWN", message: `no robot ${name}` }] });
    robots.splice(i, 1);
    return send(res, 204);
  }
  send(res, 404, { error: "not found" });
}

type Result = { code: number; stdout: string; stderr: string };

/** Runs a CLI (async: the stand-in server lives in this process) with a clean environment. */
function cli(script: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  const clean: NodeJS.ProcessEnv = { ...process.env, STATE_DIR: stateDir, ...env };
  for (const key of ["REGISTRY_URL", "AUTH_URL", "ADMIN_TOKEN"]) if (!(key in env)) delete clean[key];
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, script), ...args], { env: clean, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}
const admin = (...args: string[]) => cli("scripts/admin/cli.mjs", [...args, "--registry", base, "--auth", base, "--token", TOKEN]);

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), "admin-cli-"));
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("pnpm admin immutable", () => {
  test("add, list as a table and as the API's JSON, remove; 400 and 404 carry the API's error text, exit 1", async () => {
    expect((await admin("immutable", "list")).stdout).toBe("no immutable-tag rules\n");
    const added = await admin("immutable", "add", "--repository", "prod/*", "--tag", "v*");
    expect(added).toMatchObject({ code: 0, stderr: "" });
    expect(added.stdout).toMatch(/^added r1: tags matching v\* in prod\/\* /);
    const json = await admin("immutable", "add", "--repository", "shared/library", "--tag", "release-*", "--json");
    const rule = JSON.parse(json.stdout) as Rule;
    expect(rule).toEqual(rules[1]);

    const [header, first, second] = (await admin("immutable", "list")).stdout.trimEnd().split("\n") as [string, string, string];
    expect(header).toMatch(/^ID\s+REPOSITORY\s+TAG\s+CREATED$/);
    expect(first.split(/\s+/)).toEqual(["r1", "prod/*", "v*", rules[0]?.created]);
    expect(second.split(/\s+/)).toEqual(["r2", "shared/library", "release-*", rules[1]?.created]);
    expect(first.indexOf("v*")).toBe(header.indexOf("TAG")); // aligned columns
    expect(JSON.parse((await admin("immutable", "list", "--json")).stdout)).toEqual({ rules });

    const bad = await admin("immutable", "add", "--repository", "x", "--tag", "a b");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad tag pattern "a b"');
    expect(await admin("immutable", "remove", "r1")).toMatchObject({ code: 0, stdout: "removed r1\n" });
    const missing = await admin("immutable", "remove", "r1");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("404 no rule r1");
    expect(rules.map((r) => r.id)).toEqual(["r2"]);
  });

  test("a refused token (401) says where the admin token comes from; the state file's token is used by default", async () => {
    const refused = await cli("scripts/admin/cli.mjs", ["immutable", "list", "--registry", base], { ADMIN_TOKEN: "wrong" });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the registry at ${base} refused the admin token (401 admin token required)`);
    expect(refused.stderr).toContain("env ADMIN_TOKEN");
    expect(refused.stderr).toContain(path.join(stateDir, "auth-secrets.json"));

    writeFileSync(path.join(stateDir, "auth-secrets.json"), JSON.stringify({ adminToken: TOKEN }));
    const fromFile = await cli("scripts/admin/cli.mjs", ["immutable", "list", "--json"], { REGISTRY_URL: base });
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual({ rules });
    rmSync(path.join(stateDir, "auth-secrets.json"));
  });

  test("an unreachable registry is named with what to do; usage errors exit 2", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const down = await cli("scripts/admin/cli.mjs", ["immutable", "list", "--registry", dead, "--token", TOKEN]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`cannot reach the registry at ${dead}`);
    expect(down.stderr).toContain("pnpm start");
    expect(down.stderr).toContain("--registry URL");

    for (const args of [["immutable", "add", "--repository", "x"], ["immutable", "frobnicate"], ["nothing"], ["immutable", "list", "--rule", "x"], ["--bogus"]]) {
      const result = await admin(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(/^admin: /);
    }
    expect((await cli("scripts/admin/cli.mjs", ["immutable", "list"])).code).toBe(2); // no token anywhere
    const help = await cli("scripts/admin/cli.mjs", ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("immutable add --repository <pattern> --tag <pattern>");
  });
});

describe("pnpm admin robots and workers/auth/bin/robots.mjs", () => {
  test("create, list and revoke print the same through both, with the old flags on the old path", async () => {
    const old = (...args: string[]) => cli("workers/auth/bin/robots.mjs", [...args, "--url", base, "--admin-token", TOKEN]);
    const created = await admin("robots", "create", "ci", "--rule", "ci/*=pull,push", "--catalog", "--description", "CI");
    expect(created.stdout).toBe(
      "created robot$ci\n  ci/* = pull,push\n  registry catalog\n\nusername: robot$ci\nsecret:   the-secret\n\n" +
        "The secret is shown only now. Example: docker login -u 'robot$…' --password-stdin <registry>\n",
    );
    const json = JSON.parse((await old("create", "deploy", "--rule", "prod/app=pull", "--json")).stdout);
    expect(json).toMatchObject({ name: "robot$deploy", secret: "the-secret", rules: [{ repository: "prod/app", actions: ["pull"] }], catalog: false });

    const list = "robot$ci\tci/*=pull,push catalog\t2026-11-30T12:00:00.000Z\tCI\nrobot$deploy\tprod/app=pull\t2026-11-30T12:00:00.000Z\n";
    expect((await admin("robots", "list")).stdout).toBe(list);
    expect((await old("list")).stdout).toBe(list);
    expect(JSON.parse((await admin("robots", "list", "--json")).stdout)).toEqual(robots);
    expect(JSON.parse((await old("list", "--json")).stdout)).toEqual(robots);

    expect((await old("revoke", "deploy")).stdout).toBe("revoked robot$deploy (logins and refresh tokens refused from now on)\n");
    const again = await admin("robots", "revoke", "robot$deploy");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("404 NAME_UNKNOWN: no robot robot$deploy");
    const refused = await cli("workers/auth/bin/robots.mjs", ["list", "--url", base, "--admin-token", "wrong"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("refused the admin token (401 UNAUTHORIZED: admin token required)");
    expect(refused.stderr).toContain("--admin-token");
    expect((await old("create", "x")).code).toBe(2); // no --rule
  });
});
