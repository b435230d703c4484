import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

export interface RunningSystem {
  /** e.g. http://127.0.0.1:40123 */
  registry: string;
  /** The pull-through mirror's URL. */
  mirror: string;
  /** The token service's URL. */
  auth: string;
  /** The local robot `pnpm start` made (push, pull, delete everywhere). */
  robot: { name: string; secret: string };
  /** `name:secret`, as skopeo's --creds / --dest-creds take it. */
  creds: string;
  /** A bearer token of the local robot for a repository (all actions) or, for "catalog", the catalog. */
  token(repository: string): Promise<string | undefined>;
  /**
   * fetch() to the registry as the local robot: the token dance done here (a token for the repository in the
   * path), so tests of the /v2 API itself need not repeat it. Paths are relative to the registry.
   */
  fetch(pathOrUrl: string, init?: RequestInit): Promise<Response>;
  /** host:port, as clients write it in image references */
  host: string;
  stateDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the system the way README command 1 does (`node scripts/start.mjs`, bundles already built by
 * `pnpm test`), on free ports and a fresh state directory, and waits for it to print its URLs.
 */
export async function startSystem(env: Record<string, string> = {}): Promise<RunningSystem> {
  const stateDir = mkdtempSync(path.join(tmpdir(), "registry-e2e-"));
  const child = spawn(process.execPath, [path.join(ROOT, "scripts/start.mjs")], {
    cwd: ROOT,
    env: { ...process.env, SKIP_BUILD: "1", REGISTRY_PORT: "0", AUTH_PORT: "0", MIRROR_PORT: "0", STATE_DIR: stateDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`system did not start:\n${out}\n${err}`)), 60_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        const found: Record<string, string> = {};
        for (const m of out.matchAll(/^(\w+)\s+(http:\/\/\S+)$/gm)) found[m[1]!] = m[2]!;
        resolve(found);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`system exited ${code}:\n${out}\n${err}`));
    });
  });
  const registry = urls.registry!;
  const robotLine = /^robot\s+(\S+)\s+(\S+)$/m.exec(out);
  const robot = { name: robotLine?.[1] ?? "", secret: robotLine?.[2] ?? "" };
  const tokens = new Map<string, Promise<string | undefined>>();
  const token = (repository: string) => {
    let t = tokens.get(repository);
    if (!t) {
      const scope = repository === "catalog" ? "registry:catalog:*" : `repository:${repository}:pull,push,delete`;
      const url = `${urls.auth}/token?service=edge-registry&scope=${encodeURIComponent(scope)}`;
      const basic = Buffer.from(`${robot.name}:${robot.secret}`).toString("base64");
      t = fetch(url, { headers: { Authorization: `Basic ${basic}` } }).then(async (r) =>
        r.ok ? ((await r.json()) as { token: string }).token : undefined,
      );
      tokens.set(repository, t);
    }
    return t;
  };
  return {
    registry,
    mirror: urls.mirror!,
    auth: urls.auth!,
    robot,
    creds: `${robot.name}:${robot.secret}`,
    token,
    async fetch(pathOrUrl, init = {}) {
      const url = pathOrUrl.startsWith("http") ? pathOrUrl : registry + pathOrUrl;
      const path = new URL(url).pathname;
      const name = path === "/v2/_catalog" ? "catalog" : /^\/v2\/(.+)\/(blobs\/uploads\/.*|blobs\/[^/]+|manifests\/[^/]+|tags\/list|referrers\/[^/]+)$/.exec(path)?.[1];
      const t = name ? await token(name) : undefined;
      const headers = new Headers(init.headers);
      if (t) headers.set("Authorization", `Bearer ${t}`);
      return fetch(url, { ...init, headers });
    },
    host: new URL(registry).host,
    stateDir,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
